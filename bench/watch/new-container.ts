// New container -> "the watcher delivered it": the measurement behind `RESULT new-container`. A kubelet-like child
// process (kubelet-child.ts) creates `count` pods with one container each at random intervals in a sandbox
// kubepods tree on the real cgroup v1 kernel and attaches a process to each; a CgroupWatcher in this process
// watches the four hierarchies and hands each container-added event to `consumer`. A container's latency is from
// its first mkdir to the moment `consumer` has finished with it in every hierarchy (so when the consumer writes
// the plan's values, this is "new container isolated"). The consumer is a parameter: today it only records;
// the agent's wiring replaces it with the apply of the container's values.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CgroupWatcher, type ContainerDirEvent } from '../../src/agent/watch/cgroup-watcher.ts';
import { CgroupSandbox, sandboxControllers } from '../lib/cgroup-sandbox.ts';

export type ContainerConsumer = (event: ContainerDirEvent) => void | Promise<void>;

export interface NewContainerOptions extends KubeletRun {
  readonly consumer: ContainerConsumer;
}

export interface ContainerTiming {
  readonly container: string;
  /** First mkdir -> consumer done in every hierarchy. */
  readonly allMs: number;
  /** First mkdir -> consumer done in the first hierarchy it was seen in. */
  readonly firstMs: number;
  /** First mkdir -> the process attached (how long the "kubelet" itself took). */
  readonly attachMs: number;
}

export interface NewContainerRun {
  readonly timings: ContainerTiming[];
  /** Containers the consumer did not finish in every hierarchy before the run ended. */
  readonly missed: number;
  readonly consumerErrors: number;
  readonly watchLimit: boolean;
}

export interface Made {
  readonly uid: string;
  readonly container: string;
  readonly mkdirAt: bigint;
  readonly attachedAt: bigint;
  readonly pid: number;
}

export const ms = (ns: bigint): number => Number(ns) / 1e6;

export interface KubeletRun {
  readonly count: number;
  readonly minGapMs: number;
  readonly maxGapMs: number;
  readonly seed: number;
  /** Longest wait for the last container after the child finished (default 10 s). */
  readonly settleMs?: number;
}

/**
 * Runs the kubelet-like child on a sandbox: returns every container it made once `complete(made)` holds (or the
 * settle time ran out), after `beforeStop` (the child's processes are still alive then), and stops the child.
 */
export async function driveKubelet(
  sandboxName: string,
  options: KubeletRun,
  complete: (made: readonly Made[]) => boolean,
  beforeStop: (made: readonly Made[]) => Promise<void> = () => Promise.resolve(),
): Promise<Made[]> {
  const made: Made[] = [];
  const script = fileURLToPath(new URL('kubelet-child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      script,
      sandboxName,
      String(options.count),
      String(options.minGapMs),
      String(options.maxGapMs),
      String(options.seed),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  try {
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) {
      const record = JSON.parse(line) as {
        done?: true;
        uid: string;
        container: string;
        mkdirAt: string;
        attachedAt: string;
        pid: number;
      };
      if (record.done) break;
      made.push({
        uid: record.uid,
        container: record.container,
        mkdirAt: BigInt(record.mkdirAt),
        attachedAt: BigInt(record.attachedAt),
        pid: record.pid,
      });
    }
    const settleBy = performance.now() + (options.settleMs ?? 10_000);
    while (!complete(made) && performance.now() < settleBy)
      await new Promise(resolve => setTimeout(resolve, 20));
    await beforeStop(made);
  } finally {
    child.stdin.end();
    if (child.exitCode === null) await once(child, 'exit');
  }
  return made;
}

export async function measureNewContainers(options: NewContainerOptions): Promise<NewContainerRun> {
  const sandbox = await CgroupSandbox.create([]);
  const done = new Map<string, Map<string, bigint>>();
  let consumerErrors = 0;
  let watchLimit = false;
  const watcher = new CgroupWatcher({
    hierarchies: sandboxControllers.map(c => ({ name: c, root: sandbox.dir(c) })),
    driver: 'cgroupfs',
    onEvent: event => {
      if (event.type === 'watch-limit') watchLimit = true;
      if (event.type !== 'container-added') return;
      Promise.resolve(options.consumer(event)).then(
        () => {
          const at = process.hrtime.bigint();
          let byHierarchy = done.get(event.container);
          if (!byHierarchy) done.set(event.container, (byHierarchy = new Map<string, bigint>()));
          byHierarchy.set(event.hierarchy, at);
        },
        () => {
          consumerErrors++;
        },
      );
    },
    onError: () => {
      consumerErrors++;
    },
  });
  let made: Made[];
  try {
    watcher.start();
    made = await driveKubelet(sandbox.name, options, all =>
      all.every(m => (done.get(m.container)?.size ?? 0) === sandboxControllers.length),
    );
  } finally {
    watcher.close();
    sandbox.removeSync();
  }
  const timings: ContainerTiming[] = [];
  let missed = 0;
  for (const m of made) {
    const byHierarchy = done.get(m.container);
    if (byHierarchy?.size !== sandboxControllers.length) {
      missed++;
      continue;
    }
    const times = [...byHierarchy.values()];
    const last = times.reduce((a, b) => (a > b ? a : b));
    const first = times.reduce((a, b) => (a < b ? a : b));
    timings.push({
      container: m.container,
      allMs: ms(last - m.mkdirAt),
      firstMs: ms(first - m.mkdirAt),
      attachMs: ms(m.attachedAt - m.mkdirAt),
    });
  }
  return { timings, missed, consumerErrors, watchLimit };
}
