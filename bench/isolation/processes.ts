// Workload processes placed in cgroups before they start working: each prints "ready", the benchmark writes its pid
// to the cgroup.procs of every directory it belongs in, then releases it with a line on stdin ("go"). Every live
// process is known here, so an interrupted run kills them all (they also die with this process: PR_SET_PDEATHSIG).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const live = new Set<Workload>();

/** Temporary directories of the runs in progress (agent state, I/O files): removed on SIGINT/SIGTERM too. */
export const scratchDirs = new Set<string>();

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class Workload {
  readonly pid: number;
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  readonly #child: ChildProcess;
  readonly #waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  #exit: Exit | undefined;

  private constructor(child: ChildProcess, pid: number) {
    this.#child = child;
    this.pid = pid;
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.#exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      live.delete(this);
      for (const waiter of this.#waiters.splice(0)) waiter.resolve('');
      return this.#exit;
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', line => {
      this.lines.push(line);
      for (const waiter of [...this.#waiters])
        if (waiter.test(line)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
    });
  }

  /** Starts `binary args`, waits for its "ready", and puts it in each cgroup directory (cgroup v1: one per hierarchy). */
  static async start(
    binary: string,
    args: readonly string[],
    cgroupDirs: readonly string[],
  ): Promise<Workload> {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    await once(child, 'spawn');
    if (child.pid === undefined) throw new Error(`${binary} ${args.join(' ')} did not start`);
    const workload = new Workload(child, child.pid);
    live.add(workload);
    try {
      await workload.waitFor(line => line.startsWith('ready'), 10_000);
      for (const dir of cgroupDirs) writeFileSync(join(dir, 'cgroup.procs'), String(workload.pid));
    } catch (error) {
      workload.killSync();
      throw error;
    }
    return workload;
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** Releases the process: from now on it works (and measures). */
  go(): void {
    this.#child.stdin?.write('go\n');
  }

  /** The first line (already printed or still to come) that passes `test`; '' when the process exited first. */
  waitFor(test: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#exit !== undefined) return Promise.resolve('');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`workload ${this.pid}: no matching line within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push({
        test,
        resolve: line => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** CPU time so far in nanoseconds (/proc/<pid>/schedstat, first field: time on a CPU). */
  cpuNs(): number {
    try {
      return Number(readFileSync(`/proc/${this.pid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      return NaN;
    }
  }

  async kill(): Promise<Exit> {
    if (this.#exit === undefined) this.#child.kill('SIGKILL');
    return this.exited;
  }

  killSync(): void {
    if (this.#exit === undefined) this.#child.kill('SIGKILL');
  }
}

/**
 * For a signal handler: SIGKILL every live workload and wait (up to a second) until none is running any more, so
 * their cgroups can be removed right after. A killed process that was not reaped yet is a zombie and no longer
 * holds its cgroup.
 */
export function killAllWorkloadsSync(): void {
  const pids = [...live].map(w => w.pid);
  for (const workload of [...live]) workload.killSync();
  const deadline = Date.now() + 1000;
  const running = (pid: number): boolean => {
    if (!existsSync(`/proc/${pid}`)) return false;
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (pids.some(running) && Date.now() < deadline)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
}

export async function killAllWorkloads(): Promise<void> {
  await Promise.all([...live].map(w => w.kill()));
}
