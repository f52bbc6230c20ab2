// The cpu controller's files per hierarchy version, and a BE-class pod's quota under the BE tier quota.
import type { PlanPod } from '../../../api/plan.ts';
import type { CgroupVersion } from '../../cgroup/layout.ts';
import { cpuMaxCodec, intCodec, maxQuotaUs, periodCodec, quotaCodec, type CpuMax } from '../core/codecs.ts';
import { knob, type Knob } from '../core/knob.ts';
import { clampToParent } from '../core/leveled.ts';

export interface V1CpuKnobs {
  readonly version: 'v1';
  readonly shares: Knob<number>;
  /** SCHED_IDLE for the whole group (kernel 5.15+); written on the BE tier directory only. */
  readonly idle: Knob<number>;
  readonly quota: Knob<number>;
  readonly period: Knob<number>;
  readonly burst: Knob<number>;
}

export interface V2CpuKnobs {
  readonly version: 'v2';
  readonly weight: Knob<number>;
  readonly idle: Knob<number>;
  readonly cpuMax: Knob<CpuMax>;
  readonly burst: Knob<number>;
}

export type CpuKnobs = V1CpuKnobs | V2CpuKnobs;

export function cpuKnobs(version: CgroupVersion): CpuKnobs {
  const idle = knob('cpu.idle', 'cpu', intCodec(0, 1, 'cpu.idle'));
  if (version === 'v1')
    return {
      version,
      shares: knob('cpu.shares', 'cpu', intCodec(2, 262144, 'cpu.shares')),
      idle,
      quota: knob('cpu.cfs_quota_us', 'cpu', quotaCodec),
      period: knob('cpu.cfs_period_us', 'cpu', periodCodec),
      burst: knob('cpu.cfs_burst_us', 'cpu', intCodec(0, maxQuotaUs, 'cpu.cfs_burst_us')),
    };
  return {
    version,
    weight: knob('cpu.weight', 'cpu', intCodec(1, 10000, 'cpu.weight')),
    idle,
    cpuMax: knob('cpu.max', 'cpu', cpuMaxCodec),
    burst: knob('cpu.max.burst', 'cpu', intCodec(0, maxQuotaUs, 'cpu.max.burst')),
  };
}

/** The weight file: cpu.shares on v1, cpu.weight on v2. */
export function weightKnob(knobs: CpuKnobs): Knob<number> {
  return knobs.version === 'v1' ? knobs.shares : knobs.weight;
}

/** The quota file: cpu.cfs_quota_us on v1, cpu.max on v2. */
export function quotaFile(knobs: CpuKnobs): string {
  return knobs.version === 'v1' ? knobs.quota.file : knobs.cpuMax.file;
}

/**
 * A BE-class pod's effective quota under the tier quota: its own limit capped at the tier (no division among pods,
 * see docs/agent.md). A BestEffort pod without a limit stays unlimited: it sits under the tier directory already.
 */
export function effectiveQuota(pod: PlanPod, beTier: CpuMax | null): CpuMax {
  const own = { quotaUs: pod.cpu.cfsQuotaUs, periodUs: pod.cpu.cfsPeriodUs };
  if (pod.qosClass !== 'BE' || beTier === null) return own;
  if (own.quotaUs === -1) {
    return pod.kubeQoS === 'BestEffort'
      ? own
      : {
          quotaUs: Math.max(1000, Math.floor((beTier.quotaUs * own.periodUs) / beTier.periodUs)),
          periodUs: own.periodUs,
        };
  }
  return clampToParent(own, beTier);
}
