// In-memory nodes for the agent fuzz targets: the cgroup v1 tree of test/agent/helpers and a cgroup v2 tree with the
// same pods (systemd driver), both with container directories a hostile runtime or user could name.
import { join } from 'node:path';
import { parseCpuList } from '../../../src/api/cpulist.ts';
import type { KubeQoS } from '../../../src/api/group.ts';
import { MemoryFs } from '../../agent/helpers/memory-fs.ts';
import { v1Node, v2Files, v2PodSegments, type V1Pod } from '../../agent/helpers/trees.ts';

export const cgroupRoot = '/cg';
export const procRoot = '/proc';
export const sysRoot = '/sys';
export const cpuCount = 4;

function onlineCpus(list: string): boolean {
  try {
    return parseCpuList(list).every(cpu => cpu < cpuCount);
  } catch {
    return false;
  }
}

/** Pods present on the fuzzed node; the fuzz plans mostly name these, so writes really happen. */
export const nodePods: readonly (V1Pod & { kubeQoS: KubeQoS })[] = [
  {
    uid: '11111111-1111-4111-8111-111111111111',
    kubeQoS: 'Guaranteed',
    containers: ['c1'],
    pids: { c1: 301 },
  },
  {
    uid: '22222222-2222-4222-8222-222222222222',
    kubeQoS: 'Burstable',
    containers: ['c1', 'cri-containerd-0a1b.scope', '.hidden', 'line\nbreak'],
    pids: { c1: 302, 'cri-containerd-0a1b.scope': 303 },
  },
  {
    uid: '33333333-3333-4333-8333-333333333333',
    kubeQoS: 'BestEffort',
    containers: ['c1'],
    pids: { c1: 304 },
  },
  {
    uid: '44444444-4444-4444-8444-444444444444',
    kubeQoS: 'Burstable',
    containers: ['c1', 'x'.repeat(255), '-rf', '%2e%2e'],
    pids: { c1: 305 },
  },
];

export function v1MemoryNode(): MemoryFs {
  return v1Node(nodePods);
}

/** A cgroup v2 node (systemd driver) at /cg in memory, 4 CPUs, disk vda (254:0). */
export function v2MemoryNode(): MemoryFs {
  const fs = new MemoryFs();
  // The v1 kernel rules of MemoryFs (parent/child cpusets and quotas) do not hold on v2; what does hold is that
  // cpuset.cpus must name CPUs the machine has (kernel/cgroup/cpuset.c: not within top_cpuset -> EINVAL).
  fs.kernelRules = false;
  fs.injections.push((path, data) =>
    path.endsWith('/cpuset.cpus') && !onlineCpus(data) ? 'EINVAL' : undefined,
  );
  fs.files.set(
    join(procRoot, 'self', 'mountinfo'),
    `40 30 0:37 / ${cgroupRoot} rw,relatime - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`,
  );
  fs.cgroup(join(sysRoot, 'block', 'vda'), { dev: '254:0' });
  fs.cgroup(join(cgroupRoot, 'kubepods.slice'), { ...v2Files, 'cpuset.cpus': '0-3' });
  for (const tier of ['kubepods-burstable.slice', 'kubepods-besteffort.slice'])
    fs.cgroup(join(cgroupRoot, 'kubepods.slice', tier), v2Files);
  for (const pod of nodePods) {
    const podDir = join(cgroupRoot, ...v2PodSegments('systemd', pod.uid, pod.kubeQoS));
    fs.cgroup(podDir, v2Files);
    for (const name of pod.containers) {
      const pid = pod.pids?.[name];
      fs.cgroup(join(podDir, name), { ...v2Files, 'cgroup.procs': pid === undefined ? '' : `${pid}\n` });
      if (pid !== undefined) fs.cgroup(join(procRoot, String(pid)), { oom_score_adj: '0' });
    }
  }
  return fs;
}
