// A node made of files, for the demo and `nodeqos sim-node`: a cgroup v2 tree laid out as kubelet's cgroupfs
// driver would (kubepods/{burstable,besteffort}/pod<uid>/<container>), a /proc with a mountinfo, CPU pressure
// and one process per container (its oom_score_adj as kubelet set it), and a /sys with the CPU topology.
// Nothing here touches the real kernel; the agent runs against it with --cgroup-root/--proc-root/--sys-root.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCpuList } from '../api/cpulist.ts';
import type { NodeAgentOptions } from '../agent/apply-plan.ts';
import type { KubeQoS } from '../api/group.ts';
import { podUidPattern } from '../plan/pod-facts.ts';

export interface SimulatedPod {
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
  readonly containers: readonly string[];
}

export interface SimulatedNode {
  readonly dir: string;
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly sysRoot: string;
  readonly stateDir: string;
  /** The roots and layout an agent needs to run on this node (spread into NodeAgent.create). */
  readonly agentRoots: Required<
    Pick<NodeAgentOptions, 'stateDir' | 'cgroupRoot' | 'procRoot' | 'sysRoot' | 'hierarchy' | 'driver'>
  >;
  addPod(pod: SimulatedPod): Promise<void>;
  /** A container started in an existing pod (as the runtime does: directory first, then the process); its pid. */
  addContainer(pod: Pick<SimulatedPod, 'uid' | 'kubeQoS'>, name: string): Promise<number>;
  /** A file of a container cgroup (e.g. cpuset.cpus), or the container process's oom_score_adj. */
  readContainer(pod: Pick<SimulatedPod, 'uid' | 'kubeQoS'>, name: string, file: string): Promise<string>;
  readPod(pod: Pick<SimulatedPod, 'uid' | 'kubeQoS'>): Promise<PodCgroupValues>;
  /** cpu.max of kubepods/besteffort: the BE tier quota. */
  readTierQuota(): Promise<string>;
  /** Sets the CPU pressure both samplers read: PSI some avg10, and /proc/stat counters advancing at that busy share. */
  setPressure(percent: number): Promise<void>;
  /** Advances /proc/stat by `jiffies` at the last pressure set (the utilization sampler needs time to pass). */
  advanceStat(jiffies: number): Promise<void>;
}

export interface PodCgroupValues {
  readonly cpuWeight: string;
  readonly cpuMax: string;
  readonly cpuset: string;
  readonly memoryMin: string;
  readonly memoryLow: string;
  readonly memoryHigh: string;
  readonly memoryMax: string;
  readonly oomScoreAdj: string;
}

const kubeletOom: Record<KubeQoS, string> = { Guaranteed: '-997', Burstable: '500', BestEffort: '1000' };

function cgroupFiles(cpuset: string): Record<string, string> {
  return {
    'cgroup.procs': '',
    'cgroup.controllers': 'cpuset cpu io memory pids',
    'cpu.weight': '100',
    'cpu.max': 'max 100000',
    'cpu.max.burst': '0',
    'cpuset.cpus': cpuset,
    'cpuset.mems': '',
    'memory.min': '0',
    'memory.low': '0',
    'memory.high': 'max',
    'memory.max': 'max',
    'io.weight': 'default 100',
    'io.max': '',
  };
}

async function writeDir(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}

/** The kernel's /proc files never read half-written; replace ours atomically too. */
let replaceCount = 0;

async function replaceFile(path: string, content: string): Promise<void> {
  // A temporary name of its own per call, so two overlapping replacements never rename each other's file.
  const temporary = `${path}.tmp-${process.pid}-${++replaceCount}`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

function qosSegments(kubeQoS: KubeQoS): string[] {
  return kubeQoS === 'Guaranteed'
    ? ['kubepods']
    : ['kubepods', kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'];
}

/** A stable fake container id (what a CRI would name the container's cgroup). */
function containerId(uid: string, name: string): string {
  return createHash('sha256').update(`${uid}/${name}`).digest('hex').slice(0, 64);
}

async function writeTopology(sysRoot: string, cpus: number, numaNodes: number): Promise<void> {
  const perNuma = Math.max(1, Math.ceil(cpus / numaNodes));
  for (let id = 0; id < cpus; id++) {
    await writeDir(join(sysRoot, 'devices', 'system', 'cpu', `cpu${id}`, 'topology'), {
      core_id: String(id),
      physical_package_id: String(Math.floor(id / perNuma)),
    });
  }
  for (let n = 0; n < numaNodes; n++) {
    const ids = Array.from({ length: cpus }, (_, i) => i).filter(i => Math.floor(i / perNuma) === n);
    await writeDir(join(sysRoot, 'devices', 'system', 'node', `node${n}`), {
      cpulist: `${formatCpuList(ids)}\n`,
    });
  }
  await writeDir(join(sysRoot, 'block', 'vda'), { dev: '254:0\n' });
}

export async function createSimulatedNode(dir: string, cpus: number, numaNodes = 1): Promise<SimulatedNode> {
  const cgroupRoot = join(dir, 'cgroup');
  const procRoot = join(dir, 'proc');
  const sysRoot = join(dir, 'sys');
  const stateDir = join(dir, 'state');
  const allCpus = `0-${cpus - 1}`;
  await writeDir(join(cgroupRoot, 'kubepods'), { ...cgroupFiles(allCpus), 'cpuset.mems': '0' });
  for (const tier of ['burstable', 'besteffort'])
    await writeDir(join(cgroupRoot, 'kubepods', tier), cgroupFiles(''));
  await writeDir(join(procRoot, 'self'), {
    mountinfo: `40 30 0:37 / ${cgroupRoot} rw,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`,
  });
  await writeDir(join(procRoot, 'pressure'), {
    cpu: 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  });
  await writeDir(procRoot, { stat: 'cpu  100 0 100 10000 0 0 0 0 0 0\n' });
  await writeTopology(sysRoot, cpus, numaNodes);
  await mkdir(stateDir, { recursive: true });
  let nextPid = 1000;
  const stat = { busy: 100, idle: 10_000, percent: 0 };
  const podDir = (pod: Pick<SimulatedPod, 'uid' | 'kubeQoS'>): string => {
    if (!podUidPattern.test(pod.uid)) throw new Error(`not a pod uid: ${pod.uid.slice(0, 64)}`);
    return join(cgroupRoot, ...qosSegments(pod.kubeQoS), `pod${pod.uid}`);
  };
  const firstPid = async (dirPath: string): Promise<string | undefined> =>
    (await readFile(join(dirPath, 'cgroup.procs'), 'utf8')).split('\n').find(line => line.trim() !== '');
  const addContainer = async (pod: Pick<SimulatedPod, 'uid' | 'kubeQoS'>, name: string): Promise<number> => {
    const pid = nextPid++;
    await writeDir(join(procRoot, String(pid)), { oom_score_adj: kubeletOom[pod.kubeQoS] });
    await writeDir(join(podDir(pod), containerId(pod.uid, name)), {
      ...cgroupFiles(''),
      'cgroup.procs': `${pid}\n`,
    });
    return pid;
  };
  return {
    dir,
    cgroupRoot,
    procRoot,
    sysRoot,
    stateDir,
    agentRoots: { stateDir, cgroupRoot, procRoot, sysRoot, hierarchy: 'v2', driver: 'cgroupfs' },
    async addPod(pod) {
      await writeDir(podDir(pod), cgroupFiles(''));
      for (const name of pod.containers) await addContainer(pod, name);
    },
    addContainer,
    async readContainer(pod, name, file) {
      const dir = join(podDir(pod), containerId(pod.uid, name));
      if (file !== 'oom_score_adj') return (await readFile(join(dir, file), 'utf8')).trim();
      const pid = (await firstPid(dir))?.trim() ?? '';
      return (await readFile(join(procRoot, pid, 'oom_score_adj'), 'utf8')).trim();
    },
    async readPod(pod) {
      const base = podDir(pod);
      const read = async (file: string): Promise<string> => (await readFile(join(base, file), 'utf8')).trim();
      const entries = await readdir(base, { withFileTypes: true });
      const container = entries.find(entry => entry.isDirectory());
      const pid = container === undefined ? undefined : await firstPid(join(base, container.name));
      return {
        cpuWeight: await read('cpu.weight'),
        cpuMax: await read('cpu.max'),
        cpuset: await read('cpuset.cpus'),
        memoryMin: await read('memory.min'),
        memoryLow: await read('memory.low'),
        memoryHigh: await read('memory.high'),
        memoryMax: await read('memory.max'),
        oomScoreAdj:
          pid === undefined
            ? '-'
            : (await readFile(join(procRoot, pid.trim(), 'oom_score_adj'), 'utf8')).trim(),
      };
    },
    async readTierQuota() {
      return (await readFile(join(cgroupRoot, 'kubepods', 'besteffort', 'cpu.max'), 'utf8')).trim();
    },
    async setPressure(percent) {
      stat.percent = percent;
      const value = percent.toFixed(2);
      await replaceFile(
        join(procRoot, 'pressure', 'cpu'),
        `some avg10=${value} avg60=${value} avg300=${value} total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`,
      );
    },
    async advanceStat(jiffies) {
      const busy = Math.round((jiffies * stat.percent) / 100);
      stat.busy += busy;
      stat.idle += jiffies - busy;
      await replaceFile(join(procRoot, 'stat'), `cpu  ${stat.busy} 0 0 ${stat.idle} 0 0 0 0 0 0\n`);
    },
  };
}
