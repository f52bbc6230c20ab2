// The plan the kernel benchmarks apply: planned by the real planner for this machine's CPUs (so every cpuset is
// one the kernel accepts here), and the sandbox pods that match it (one container each).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseCpuList } from '../../src/api/cpulist.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import type { Topology } from '../../src/api/topology.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { benchNode, benchPolicy, smallNodePod } from '../fixtures.ts';
import type { SandboxPod } from '../lib/cgroup-sandbox.ts';

export const kernelNodeName = 'kernel-bench-node';

/** The CPUs of the root cpuset, one core per CPU, one NUMA node: what this machine can pin. */
export async function machineTopology(): Promise<Topology> {
  const ids = parseCpuList((await readFile('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8')).trim());
  return { cpus: ids.map(id => ({ id, core: id, socket: 0, numa: 0 })) };
}

export async function kernelPlan(podCount: number): Promise<NodeIsolationPlan> {
  const topology = await machineTopology();
  const node = benchNode(kernelNodeName, topology.cpus.length);
  const pods = Array.from({ length: podCount }, (_, i) => smallNodePod(kernelNodeName, i));
  return planNode({ policy: benchPolicy(), node, pods, topology });
}

/** A stable, container-id-like directory name per pod (what containerd would name the container's cgroup). */
function containerDir(uid: string): string {
  return createHash('sha256').update(uid).digest('hex');
}

export function sandboxPods(plan: NodeIsolationPlan): SandboxPod[] {
  return plan.spec.pods.map(pod => ({
    uid: pod.uid,
    kubeQoS: pod.kubeQoS,
    containers: [containerDir(pod.uid)],
  }));
}
