// Hand-built plans for agent tests, validated by the real schema.
import type { KubeQoS, QoSClass } from '../../../src/api/group.ts';
import {
  planSchema,
  type NodeIsolationPlan,
  type PlanEviction,
  type PlanPod,
} from '../../../src/api/plan.ts';
import { resolvePolicy } from '../../../src/plan/resolved-policy.ts';
import { policy } from '../../plan/fixtures.ts';

export interface PodInput {
  readonly uid: string;
  readonly name: string;
  readonly qosClass: QoSClass;
  readonly kubeQoS: KubeQoS;
  readonly cpu?: Partial<PlanPod['cpu']>;
  readonly memory?: Partial<PlanPod['memory']>;
  readonly oomScoreAdj?: number;
  readonly blkio?: Partial<PlanPod['blkio']>;
}

export function planPod(input: PodInput): PlanPod {
  return {
    uid: input.uid,
    namespace: 'default',
    name: input.name,
    qosClass: input.qosClass,
    kubeQoS: input.kubeQoS,
    cpu: {
      shares: 1024,
      cfsQuotaUs: -1,
      cfsPeriodUs: 100000,
      cfsBurstUs: 0,
      cpuset: '0-1',
      pinned: 'shared',
      ...input.cpu,
    },
    memory: { minBytes: null, lowBytes: null, highBytes: null, maxBytes: null, ...input.memory },
    oomScoreAdj: input.oomScoreAdj ?? 0,
    blkio: { weight: 100, throttle: [], ...input.blkio },
    net: { classid: '0x00010001', priority: 0 },
  };
}

export function plan(nodeName: string, pods: readonly PlanPod[], tierPeriodUs = 100000): NodeIsolationPlan {
  return planSchema.parse({
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeIsolationPlan',
    metadata: { name: nodeName },
    spec: {
      nodeName,
      policyName: 'test',
      nodeCapacityMilliCPU: 2000,
      podCount: pods.length,
      cpuSuppress: {
        enabled: true,
        baseMilliCPU: 1000,
        cfsPeriodUs: tierPeriodUs,
        floorQuotaUs: 10000,
        ceilingQuotaUs: 100000,
        curve: [{ pressure: 0, ratio: 1 }],
        interpolation: 'linear',
        pressureSource: 'utilization',
        intervalMs: 1000,
        maxStepUpQuotaUs: 10000,
        deadbandQuotaUs: 2000,
      },
      cpuBurst: { enabled: false, burstPercent: 0 },
      pools: { ls: '0', be: '0-1' },
      classDefaults: [],
      net: { classes: [] },
      pods,
      warnings: [],
    },
  });
}

export const uids = {
  lse: '11111111-1111-4111-8111-111111111111',
  ls: '22222222-2222-4222-8222-222222222222',
  be: '33333333-3333-4333-8333-333333333333',
  beBurstable: '44444444-4444-4444-8444-444444444444',
} as const;

/** A plan's eviction settings: the planner's defaults (both kinds off), as it resolves an empty policy, with changes. */
export function planEviction(
  changes: {
    readonly priorityThreshold?: number;
    readonly conditionTransitionSeconds?: number;
    readonly memory?: Partial<PlanEviction['memory']>;
    readonly cpu?: Partial<PlanEviction['cpu']>;
  } = {},
): PlanEviction {
  const defaults = resolvePolicy(policy()).eviction;
  return {
    ...defaults,
    priorityThreshold: changes.priorityThreshold ?? defaults.priorityThreshold,
    conditionTransitionSeconds: changes.conditionTransitionSeconds ?? defaults.conditionTransitionSeconds,
    memory: { ...defaults.memory, ...changes.memory },
    cpu: { ...defaults.cpu, ...changes.cpu },
  };
}
