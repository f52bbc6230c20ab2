// Pods that reached the node after the controller's last plan get their class's values from the plan at once:
// cpu.shares from the class weight, their pool's cpuset, kubelet's quota and memory limit, the class's
// oom_score_adj, blkio and net. They are never pinned and get no memory protection until the controller plans them.
import type { PlanPod, PlanSpec } from '../api/plan.ts';
import type { Pod } from '../api/inputs.ts';
import { quotaFor, sharesFor } from './cpu.ts';
import { pageSize } from './memory.ts';
import { podFacts, type PodFacts } from './pod-facts.ts';
import { podCfsPeriodUs } from './plan-node.ts';

function pageFloor(bytes: number | null): number | null {
  return bytes === null ? null : Math.floor(bytes / pageSize) * pageSize;
}

function provisionalPod(spec: PlanSpec, f: PodFacts): PlanPod | undefined {
  const defaults = spec.classDefaults.find(c => c.qosClass === f.qosClass);
  if (!defaults) return undefined;
  const netClass = spec.net.classes.find(c => c.qosClass === f.qosClass);
  return {
    uid: f.uid,
    namespace: f.namespace,
    name: f.name,
    qosClass: f.qosClass,
    kubeQoS: f.kubeQoS,
    cpu: {
      shares: defaults.fixedShares ?? sharesFor(f.cpuRequestMilli, defaults.sharesPerCPU).value,
      cfsQuotaUs: quotaFor(f.cpuLimitMilli, podCfsPeriodUs),
      cfsPeriodUs: podCfsPeriodUs,
      cfsBurstUs: 0,
      cpuset: f.qosClass === 'BE' ? spec.pools.be : spec.pools.ls,
      pinned: 'shared',
    },
    memory: { minBytes: 0, lowBytes: 0, highBytes: null, maxBytes: pageFloor(f.memoryLimitBytes) },
    oomScoreAdj: defaults.oomScoreAdj,
    blkio: { weight: defaults.blkioWeight, throttle: [] },
    net: { classid: netClass?.classid ?? defaults.netClassid, priority: defaults.netPriority },
  };
}

export function provisionalPods(spec: PlanSpec, podsOnNode: readonly Pod[]): PlanPod[] {
  const planned = new Set(spec.pods.map(p => p.uid));
  const out: PlanPod[] = [];
  for (const pod of podsOnNode) {
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const result = podFacts(pod);
    if (!result.ok || planned.has(result.facts.uid)) continue;
    const planPod = provisionalPod(spec, result.facts);
    if (planPod) out.push(planPod);
  }
  return out;
}
