// A private kubepods tree on the real cgroup v1 kernel: /sys/fs/cgroup/{cpu,cpuset,memory,blkio}/nodeqos-test-<hex>
// with burstable/ and besteffort/ and the given pods (cgroupfs naming: pod<uid>/<container>), as kubelet lays it
// out. Only directories named nodeqos-test-* are ever created or removed. Removal runs on remove(), and on
// SIGINT/SIGTERM (synchronously, then the process exits), so an interrupted benchmark leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmdirSync } from 'node:fs';
import { access, constants, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeQoS } from '../../src/api/group.ts';

const cgroupRoot = '/sys/fs/cgroup';
export const sandboxControllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;
export type SandboxController = (typeof sandboxControllers)[number];

export interface SandboxPod {
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
  readonly containers: readonly string[];
}

/** Why this process cannot build a sandbox here, or undefined when it can. */
export async function cgroupV1Unavailable(): Promise<string | undefined> {
  for (const controller of sandboxControllers) {
    const dir = join(cgroupRoot, controller);
    try {
      await access(join(dir, 'cgroup.procs'));
      await access(dir, constants.W_OK);
    } catch (error) {
      return `${dir} is not a writable cgroup v1 hierarchy (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    }
  }
  return undefined;
}

function qosSegments(kubeQoS: KubeQoS): string[] {
  return kubeQoS === 'Guaranteed' ? [] : [kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'];
}

const live = new Set<CgroupSandbox>();

function removeOnSignal(signal: NodeJS.Signals): void {
  const names = [...live].map(sandbox => sandbox.name);
  for (const sandbox of [...live]) sandbox.removeSync();
  process.stderr.write(`${signal}: removed cgroup sandbox(es) ${names.join(', ')}\n`);
  process.exit(1);
}

/** Removes a directory tree bottom-up; cgroup directories only go away with rmdir, never with rm -r. */
function removeTreeSync(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) if (entry.isDirectory()) removeTreeSync(join(dir, entry.name));
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // A cgroup whose last task just exited can report EBUSY for a moment.
      if (code !== 'EBUSY' || attempt >= 50)
        throw new Error(`rmdir ${dir}: ${code ?? 'failed'}`, { cause: error });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

export class CgroupSandbox {
  /** The kubepods directory name, relative to each controller's mount: pass it as the agent's kubepodsDir. */
  readonly name = `nodeqos-test-${randomBytes(4).toString('hex')}`;
  readonly pods: readonly SandboxPod[];
  private removed = false;

  readonly #cpus: string | undefined;

  private constructor(pods: readonly SandboxPod[], cpus: string | undefined) {
    this.pods = pods;
    this.#cpus = cpus;
  }

  /**
   * Creates the tree; on any failure removes what was made and rethrows. `cpus` pins the whole tree to those CPUs
   * (a cpu list inside the root cpuset); by default every level gets the root's CPUs.
   */
  static async create(pods: readonly SandboxPod[], cpus?: string): Promise<CgroupSandbox> {
    const sandbox = new CgroupSandbox(pods, cpus);
    if (live.size === 0) {
      process.once('SIGINT', removeOnSignal);
      process.once('SIGTERM', removeOnSignal);
    }
    live.add(sandbox);
    try {
      await sandbox.build();
    } catch (error) {
      sandbox.removeSync();
      throw error;
    }
    return sandbox;
  }

  dir(controller: SandboxController, pod?: SandboxPod, container?: string): string {
    const parts = [cgroupRoot, controller, this.name];
    if (pod) parts.push(...qosSegments(pod.kubeQoS), `pod${pod.uid}`);
    if (pod && container !== undefined) parts.push(container);
    return join(...parts);
  }

  private async build(): Promise<void> {
    const cpus = this.#cpus ?? (await readFile(join(cgroupRoot, 'cpuset', 'cpuset.cpus'), 'utf8')).trim();
    const mems = (await readFile(join(cgroupRoot, 'cpuset', 'cpuset.mems'), 'utf8')).trim();
    for (const controller of sandboxControllers) {
      const dirs = [
        this.dir(controller),
        join(this.dir(controller), 'burstable'),
        join(this.dir(controller), 'besteffort'),
      ];
      for (const pod of this.pods)
        dirs.push(this.dir(controller, pod), ...pod.containers.map(c => this.dir(controller, pod, c)));
      for (const dir of dirs) {
        await mkdir(dir);
        if (controller !== 'cpuset') continue;
        // kubelet's cgroupfs driver leaves every level with the parent's CPUs and memory nodes.
        await writeFile(join(dir, 'cpuset.cpus'), cpus);
        await writeFile(join(dir, 'cpuset.mems'), mems);
      }
    }
  }

  /** Removes the whole tree (idempotent). */
  removeSync(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    const failures: string[] = [];
    for (const controller of sandboxControllers) {
      try {
        removeTreeSync(this.dir(controller));
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (live.size === 0) {
      process.removeListener('SIGINT', removeOnSignal);
      process.removeListener('SIGTERM', removeOnSignal);
    }
    if (failures.length > 0)
      throw new Error(`cgroup sandbox ${this.name} not fully removed: ${failures.join('; ')}`);
  }
}
