// Request/response over a forked Node child's IPC channel, so a benchmark can run the code it measures in a
// process of its own (its RSS and CPU time are then the child's alone) and still drive it step by step.
import { fork, type ChildProcess } from 'node:child_process';

interface RequestEnvelope {
  readonly id: number;
  readonly body: unknown;
}

type ReplyEnvelope =
  | { readonly id: number; readonly ok: true; readonly body: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

const readyMessage = 'ready';

export interface ChildHandle<Req, Res> {
  readonly pid: number;
  readonly process: ChildProcess;
  request(body: Req): Promise<Res>;
  /** Closes the IPC channel (the child exits normally, writing --cpu-prof output), SIGKILL after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

export interface StartChildOptions {
  readonly args?: readonly string[];
  readonly execArgv?: readonly string[];
}

/**
 * Forks `script` with the same Node, its stdout and stderr on our stderr (our stdout carries the JSON lines),
 * and resolves once the child called serveParent. The child is killed when this process exits.
 */
export async function startChild<Req, Res>(
  script: string,
  options: StartChildOptions = {},
): Promise<ChildHandle<Req, Res>> {
  const child = fork(script, [...(options.args ?? [])], {
    execArgv: [...(options.execArgv ?? [])],
    stdio: ['ignore', process.stderr, process.stderr, 'ipc'],
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const pending = new Map<number, { resolve: (body: Res) => void; reject: (error: Error) => void }>();
  let exitReason: string | undefined;
  const exited = new Promise<void>(resolve => {
    child.once('exit', (code, signal) => {
      exitReason = `child ${script} exited (code ${code}, signal ${signal})`;
      process.removeListener('exit', killOnExit);
      for (const waiter of pending.values()) waiter.reject(new Error(exitReason));
      pending.clear();
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', message => {
      if (message === readyMessage) resolve();
      else reject(new Error(`child ${script} sent ${JSON.stringify(message)} before ready`));
    });
    child.once('exit', () => {
      reject(new Error(exitReason ?? `child ${script} exited before ready`));
    });
  });
  child.on('message', (message: ReplyEnvelope) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.body as Res);
    else waiter.reject(new Error(`child ${script}: ${message.error}`));
  });
  let nextId = 0;
  const pid = child.pid;
  if (pid === undefined) throw new Error(`child ${script} has no pid`);
  return {
    pid,
    process: child,
    request: body =>
      new Promise<Res>((resolve, reject) => {
        if (exitReason !== undefined) {
          reject(new Error(exitReason));
          return;
        }
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, body } satisfies RequestEnvelope);
      }),
    close: async (graceMs = 5_000) => {
      if (exitReason === undefined && child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      if (exitReason === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The child side: answers each request with `handle`, one at a time, and exits when the parent goes away.
 * `handle` declares the request type it takes (the parent's startChild<Req, Res> must agree).
 */
export function serveParent(handle: (body: never) => Promise<unknown>): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('serveParent: not started with an IPC channel (use startChild)');
  let chain = Promise.resolve();
  process.on('message', (message: RequestEnvelope) => {
    chain = chain.then(async () => {
      let reply: ReplyEnvelope;
      try {
        reply = { id: message.id, ok: true, body: await handle(message.body as never) };
      } catch (error) {
        reply = {
          id: message.id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        };
      }
      send(reply);
    });
  });
  process.once('disconnect', () => {
    process.exit(0);
  });
  send(readyMessage);
}
