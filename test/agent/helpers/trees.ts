// Node trees for executor tests: an in-memory cgroup v1 node (MemoryFs) and a cgroup v2 node under a temp dir.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeQoS } from '../../../src/api/group.ts';
import type { CgroupDriver } from '../../../src/agent/cgroup/layout.ts';
import { MemoryFs } from './memory-fs.ts';

export const unlimitedV1 = '9223372036854771712';

export const v1Mountinfo = [
  '30 22 0:27 / /cg rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /cg/cpu rw,relatime - cgroup cgroup rw,cpu',
  '33 30 0:30 / /cg/cpuset rw,relatime - cgroup cgroup rw,cpuset',
  '34 30 0:31 / /cg/memory rw,relatime - cgroup cgroup rw,memory',
  '37 30 0:34 / /cg/blkio rw,relatime - cgroup cgroup rw,blkio',
  '40 30 0:37 / /cg/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

const v1Files: Record<string, Record<string, string>> = {
  cpu: {
    'cpu.shares': '1024',
    'cpu.cfs_quota_us': '-1',
    'cpu.cfs_period_us': '100000',
    'cpu.cfs_burst_us': '0',
    'cgroup.procs': '',
  },
  cpuset: { 'cpuset.cpus': '0-3', 'cpuset.mems': '0', 'cgroup.procs': '' },
  memory: {
    'memory.limit_in_bytes': unlimitedV1,
    'memory.soft_limit_in_bytes': unlimitedV1,
    'cgroup.procs': '',
  },
  blkio: {
    'blkio.weight': '500',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
    'cgroup.procs': '',
  },
};

export function v1QosPath(kubeQoS: KubeQoS): string {
  return kubeQoS === 'Guaranteed'
    ? 'kubepods'
    : `kubepods/${kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'}`;
}

export interface V1Pod {
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
  readonly containers: readonly string[];
  /** pid per container (same pid in every controller). */
  readonly pids?: Readonly<Record<string, number>>;
}

/** A v1 node at /cg with /proc and /sys, cgroupfs naming, 4 CPUs and disks sda (8:0), loop0 and zram0. */
export function v1Node(pods: readonly V1Pod[]): MemoryFs {
  const fs = new MemoryFs();
  fs.files.set('/proc/self/mountinfo', v1Mountinfo);
  fs.cgroup('/sys/block/sda', { dev: '8:0' });
  fs.cgroup('/sys/block/loop0', { dev: '7:0' });
  fs.cgroup('/sys/block/zram0', { dev: '252:0' });
  fs.cgroup('/sys/class/block/sda1', { dev: '8:1' });
  for (const [controller, files] of Object.entries(v1Files)) {
    for (const qos of ['kubepods', 'kubepods/burstable', 'kubepods/besteffort'])
      fs.cgroup(`/cg/${controller}/${qos}`, files);
    for (const pod of pods) {
      const podDir = `/cg/${controller}/${v1QosPath(pod.kubeQoS)}/pod${pod.uid}`;
      fs.cgroup(podDir, files);
      for (const name of pod.containers) {
        const pid = pod.pids?.[name];
        fs.cgroup(`${podDir}/${name}`, { ...files, 'cgroup.procs': pid === undefined ? '' : `${pid}\n` });
      }
    }
  }
  for (const pod of pods)
    for (const pid of Object.values(pod.pids ?? {})) fs.cgroup(`/proc/${pid}`, { oom_score_adj: '0' });
  return fs;
}

export function v1PodDir(controller: string, pod: { uid: string; kubeQoS: KubeQoS }): string {
  return `/cg/${controller}/${v1QosPath(pod.kubeQoS)}/pod${pod.uid}`;
}

export const v2Files: Record<string, string> = {
  'cpu.weight': '100',
  'cpu.max': 'max 100000',
  'cpu.max.burst': '0',
  'cpuset.cpus': '',
  'memory.min': '0',
  'memory.low': '0',
  'memory.high': 'max',
  'memory.max': 'max',
  'io.weight': 'default 100',
  'io.max': '',
  'cgroup.procs': '',
};

export function v2PodSegments(driver: CgroupDriver, uid: string, kubeQoS: KubeQoS): string[] {
  if (driver === 'cgroupfs')
    return kubeQoS === 'Guaranteed'
      ? ['kubepods', `pod${uid}`]
      : ['kubepods', kubeQoS.toLowerCase(), `pod${uid}`];
  const u = uid.replaceAll('-', '_');
  if (kubeQoS === 'Guaranteed') return ['kubepods.slice', `kubepods-pod${u}.slice`];
  const tier = kubeQoS.toLowerCase();
  return ['kubepods.slice', `kubepods-${tier}.slice`, `kubepods-${tier}-pod${u}.slice`];
}

async function writeCgroup(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}

export interface V2Tree {
  readonly base: string;
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly sysRoot: string;
  podDir(uid: string, kubeQoS: KubeQoS): string;
}

/** A cgroup v2 node under a temp dir: <base>/cgroup (unified), <base>/proc, <base>/sys with disk vda (254:0). */
export async function v2Node(
  driver: CgroupDriver,
  pods: readonly V1Pod[],
  extraFiles: Readonly<Record<string, string>> = {},
): Promise<V2Tree> {
  const base = await mkdtemp(join(tmpdir(), 'nodeqos-v2-'));
  const cgroupRoot = join(base, 'cgroup');
  const procRoot = join(base, 'proc');
  const sysRoot = join(base, 'sys');
  await writeCgroup(join(procRoot, 'self'), {
    mountinfo: `40 30 0:37 / ${cgroupRoot} rw,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`,
  });
  await writeCgroup(join(sysRoot, 'block', 'vda'), { dev: '254:0' });
  const files = { ...v2Files, ...extraFiles };
  const kubepods = driver === 'systemd' ? 'kubepods.slice' : 'kubepods';
  const tiers =
    driver === 'systemd'
      ? ['kubepods-burstable.slice', 'kubepods-besteffort.slice']
      : ['burstable', 'besteffort'];
  await writeCgroup(join(cgroupRoot, kubepods), { ...files, 'cpuset.cpus': '0-3' });
  for (const tier of tiers) await writeCgroup(join(cgroupRoot, kubepods, tier), files);
  const podDir = (uid: string, kubeQoS: KubeQoS): string =>
    join(cgroupRoot, ...v2PodSegments(driver, uid, kubeQoS));
  for (const pod of pods) {
    await writeCgroup(podDir(pod.uid, pod.kubeQoS), files);
    for (const name of pod.containers) {
      const pid = pod.pids?.[name];
      await writeCgroup(join(podDir(pod.uid, pod.kubeQoS), name), {
        ...files,
        'cgroup.procs': pid === undefined ? '' : `${pid}\n`,
      });
      if (pid !== undefined) await writeCgroup(join(procRoot, String(pid)), { oom_score_adj: '0' });
    }
  }
  return { base, cgroupRoot, procRoot, sysRoot, podDir };
}
