// cpu: the pod's weight (cpu.shares / cpu.weight), CFS quota and burst, capped for BE-class pods at the BE tier
// quota; on the tier directory itself, cpu.idle (tier-idle.ts) and the BE tier quota (tier-quota.ts, written by
// the executor's BE tier writer).
import type { PlanPod } from '../../../api/plan.ts';
import { sharesToWeight } from '../core/conversions.ts';
import { notDerivable, type Mechanism, type NodeSpec, type PlanFacts } from '../core/mechanism.ts';
import { cpuKnobs, effectiveQuota, quotaFile, weightKnob, type CpuKnobs } from './knobs.ts';
import { v1CpuOps, v2CpuOps } from './quota-ops.ts';
import { tierIdlePass } from './tier-idle.ts';

function burstOf(pod: PlanPod, quotaUs: number): number {
  return quotaUs === -1 ? pod.cpu.cfsBurstUs : Math.min(pod.cpu.cfsBurstUs, quotaUs);
}

function wantedValues(pod: PlanPod, knobs: CpuKnobs, facts: PlanFacts): Map<string, unknown> {
  const quota = effectiveQuota(pod, facts.beTier);
  if (knobs.version === 'v1')
    return new Map<string, unknown>([
      [knobs.shares.file, pod.cpu.shares],
      [knobs.quota.file, quota.quotaUs],
      [knobs.period.file, quota.periodUs],
      [knobs.burst.file, burstOf(pod, quota.quotaUs)],
    ]);
  return new Map<string, unknown>([
    [knobs.weight.file, sharesToWeight(pod.cpu.shares)],
    [knobs.cpuMax.file, quota],
    [knobs.burst.file, burstOf(pod, quota.quotaUs)],
  ]);
}

/** The cpu mechanism with its files typed, for the BE tier writer (tier quota, capping BE pods). */
export interface CpuMechanism extends Mechanism {
  readonly cpu: CpuKnobs;
}

export function cpuMechanism(node: NodeSpec): CpuMechanism {
  const knobs = cpuKnobs(node.version);
  // shares/weight, quota and period come from the pod spec: kubelet's values are not derivable without it.
  const fromSpec =
    knobs.version === 'v1' ? [knobs.shares, knobs.quota, knobs.period] : [knobs.weight, knobs.cpuMax];
  return {
    name: 'cpu',
    cpu: knobs,
    knobs:
      knobs.version === 'v1'
        ? [knobs.shares, knobs.idle, knobs.quota, knobs.period, knobs.burst]
        : [knobs.weight, knobs.idle, knobs.cpuMax, knobs.burst],
    want: (pod, facts) => Promise.resolve({ values: wantedValues(pod, knobs, facts), unsupported: [] }),
    // kubelet sets no CPU burst.
    kubeletDefaults: () =>
      Promise.resolve({
        values: new Map([[knobs.burst.file, 0]]),
        leftAsIs: fromSpec.map(knob => ({ knob: knob.file, reason: notDerivable })),
      }),
    ops: (session, desired) =>
      knobs.version === 'v1' ? v1CpuOps(session, knobs, desired) : v2CpuOps(session, knobs, desired),
    applied: (pod, ok, facts) => ({
      shares: ok(weightKnob(knobs).file) ? pod.cpu.shares : null,
      cfsQuotaUs: ok(quotaFile(knobs)) ? effectiveQuota(pod, facts.beTier).quotaUs : null,
    }),
    tier: (session, originals, plan) => tierIdlePass(session, knobs, originals, plan),
  };
}
