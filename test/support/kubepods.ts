// A private cgroup v1 "kubepods" tree (nodeqos-test-<random>) where pods are laid out as kubelet's cgroupfs
// driver lays them out, and their containers are real: kubelet's part (the QoS tiers and the pod<uid> cgroup
// with its pod-level values) is done here, the runtime's part by podman + runc, which creates the container's
// cgroup under --cgroup-parent and attaches the process, as in production. Everything, including the
// directories runc adds in hierarchies the test never named (cpuacct, devices, pids, ...), is removed by
// cleanup(), which tolerates a half-built tree.
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubeQoS } from '../../src/api/group.ts';
import { containerPid, exec, podmanOk, removeContainers, ulimits } from './containers.ts';

export const cgroupV1Root = '/sys/fs/cgroup';
/** The hierarchies the agent writes on cgroup v1; the tree exists in each before any pod does. */
export const agentControllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;
export type AgentController = (typeof agentControllers)[number];

export interface TestPod {
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
}

export interface ContainerOptions {
  /** uid:gid inside the container (kubelet: the pod's runAsUser); default 65534:65534. */
  readonly user?: string;
  /** CFS quota per 100 ms period, as kubelet sets it from a CPU limit. */
  readonly cpuQuotaUs?: number;
  /** oom_score_adj as kubelet computes it (BestEffort 1000, Burstable 2..999). */
  readonly oomScoreAdj?: number;
}

export interface RunningContainer {
  readonly name: string;
  readonly id: string;
  /** The container cgroup's directory name inside pod<uid>, as the runtime chose it. */
  readonly cgroup: string;
  readonly pid: number;
}

function qosSegments(kubeQoS: KubeQoS): string[] {
  return kubeQoS === 'Guaranteed' ? [] : [kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'];
}

/** Removes a test cgroup directory bottom-up, retrying while the kernel still releases a removed child. */
export async function removeDir(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) await removeDir(join(dir, entry.name));
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  }
  console.error(`kubepods test tree: could not remove ${dir}`);
}

/** A root filesystem holding /bin/sleep and the libraries it loads: the "pause" process of every test pod. */
async function pauseRootfs(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nodeqos-test-pause-'));
  await chmod(dir, 0o755); // containers run as non-root users and must traverse it
  const sleep = '/bin/sleep';
  const ldd = await exec('ldd', [sleep]);
  if (ldd.code !== 0) throw new Error(`ldd ${sleep}: ${ldd.stderr}`);
  const libs = [...ldd.stdout.matchAll(/(?:=>\s+)?(\/\S+)\s+\(0x/g)].map(m => m[1] ?? '');
  for (const file of [sleep, ...libs]) {
    await mkdir(join(dir, dirname(file)), { recursive: true, mode: 0o755 });
    await copyFile(file, join(dir, file));
    await chmod(join(dir, file), 0o755);
  }
  return dir;
}

export class KubepodsTree {
  /** The kubepods directory name, the same in every hierarchy (the agent's --kubepods). */
  readonly name = `nodeqos-test-${randomBytes(4).toString('hex')}`;
  readonly #containers: string[] = [];
  #rootfs = '';
  #seq = 0;

  /** Creates kubepods/, burstable/ and besteffort/ in the agent's hierarchies, cpusets filled from the root. */
  static async create(): Promise<KubepodsTree> {
    const tree = new KubepodsTree();
    try {
      tree.#rootfs = await pauseRootfs();
      for (const controller of agentControllers)
        for (const segments of [[], ['burstable'], ['besteffort']]) await tree.#mkdir(controller, segments);
    } catch (error) {
      await tree.cleanup();
      throw error;
    }
    return tree;
  }

  dir(controller: string, segments: readonly string[] = []): string {
    return join(cgroupV1Root, controller, this.name, ...segments);
  }

  podDir(controller: string, pod: TestPod, container?: string): string {
    const segments = [...qosSegments(pod.kubeQoS), `pod${pod.uid}`];
    return this.dir(controller, container === undefined ? segments : [...segments, container]);
  }

  /** kubelet's part: the pod cgroup in every hierarchy, with the pod-level CPU quota when it has a limit. */
  async createPod(pod: TestPod, podQuotaUs = -1): Promise<void> {
    for (const controller of agentControllers)
      await this.#mkdir(controller, [...qosSegments(pod.kubeQoS), `pod${pod.uid}`]);
    await writeFile(join(this.podDir('cpu', pod), 'cpu.cfs_quota_us'), String(podQuotaUs));
  }

  /** The runtime's part: podman + runc create the container cgroup under pod<uid> and start the process in it. */
  async startContainer(pod: TestPod, options: ContainerOptions = {}): Promise<RunningContainer> {
    const name = `${this.name}-c${++this.#seq}`;
    this.#containers.push(name);
    const parent = `/${[this.name, ...qosSegments(pod.kubeQoS), `pod${pod.uid}`].join('/')}`;
    const args = ['run', '--detach', '--name', name, ...ulimits];
    // conmon stays out of the pod cgroup, as containerd's shim does; only the container's cgroup is created.
    args.push('--cgroups=no-conmon', '--cgroup-parent', parent, '--network', 'none', '--read-only');
    args.push('--user', options.user ?? '65534:65534');
    if (options.cpuQuotaUs !== undefined)
      args.push('--cpu-period', '100000', '--cpu-quota', String(options.cpuQuotaUs));
    if (options.oomScoreAdj !== undefined) args.push('--oom-score-adj', String(options.oomScoreAdj));
    args.push('--rootfs', this.#rootfs, '/bin/sleep', '3600');
    const id = await podmanOk(args);
    const pid = await containerPid(name);
    const cgroup = (await readFile(`/proc/${pid}/cgroup`, 'utf8'))
      .split('\n')
      .find(line => /^\d+:cpu(,cpuacct)?:/.test(line) || /^\d+:cpu:/.test(line));
    const leaf = cgroup?.slice(cgroup.lastIndexOf('/') + 1) ?? '';
    if (!cgroup?.includes(`${parent}/`))
      throw new Error(`container ${name} is not under ${parent}: ${cgroup}`);
    return { name, id, cgroup: leaf, pid };
  }

  async stopContainer(container: RunningContainer): Promise<void> {
    await removeContainers([container.name]);
  }

  /** Stops every container started here, then removes the tree from every hierarchy it reached. */
  async cleanup(): Promise<void> {
    try {
      await removeContainers(this.#containers);
    } finally {
      for (const hierarchy of await readdir(cgroupV1Root).catch(() => [] as string[]))
        await removeDir(join(cgroupV1Root, hierarchy, this.name));
      if (this.#rootfs !== '') await rm(this.#rootfs, { recursive: true, force: true });
    }
  }

  async #mkdir(controller: AgentController, segments: readonly string[]): Promise<void> {
    const dir = this.dir(controller, segments);
    await mkdir(dir);
    if (controller !== 'cpuset') return;
    // A new v1 cpuset is empty and takes no task until cpus and mems are set (kubelet copies the parent's).
    const parent = dirname(dir);
    for (const file of ['cpuset.mems', 'cpuset.cpus'])
      await writeFile(join(dir, file), (await readFile(join(parent, file), 'utf8')).trim());
  }
}
