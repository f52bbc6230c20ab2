// What the agent applied to one pod, for the per-pod gauges; null leaves a gauge unset (knob failed or unsupported).
// Unlimited is -1. Each mechanism fills its own fields; the executor adds oom_score_adj.

export type MemoryKnob = 'min' | 'low' | 'high' | 'max';

export interface AppliedValues {
  readonly shares: number | null;
  readonly cfsQuotaUs: number | null;
  readonly cpusetSize: number | null;
  readonly memory: Readonly<Record<MemoryKnob, number | null>>;
  readonly oomScoreAdj: number | null;
  readonly blkioWeight: number | null;
}

/** Whether a pod-level file ended up right this pass (written or already equal). */
export type AppliedCheck = (file: string) => boolean;
