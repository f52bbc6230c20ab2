// The memory signal against the policy: is a round due, and how much must it release. Pure arithmetic.
import type { PlanEviction } from '../../api/plan.ts';

/** Node memory as kubelet's memory.available sees it: working set = usage - inactive file, floored at 0. */
export interface MemorySample {
  readonly workingSetBytes: number;
  readonly capacityBytes: number;
}

export interface MemoryVerdict {
  readonly percent: number;
  readonly thresholdBytes: number;
  readonly lowerBytes: number;
  /** The working set is at or above the threshold: a round is due (when the cool-down allows). */
  readonly over: boolean;
  /** Bytes the round must release: down to the lower bound, and never less than the minimum reclaim. */
  readonly targetBytes: number;
}

export function workingSet(usageBytes: number, inactiveFileBytes: number): number {
  return Math.max(0, usageBytes - inactiveFileBytes);
}

/**
 * threshold and lower are percents of node memory (Koordinator's formula: release = capacity x (usage% - lower%),
 * here in bytes rather than whole percents, so a 64 GiB node is not rounded to 655 MiB steps); the minimum reclaim
 * is kubelet's: once a round starts it frees at least that much, so the next sample is not over again at once.
 */
export function memoryVerdict(sample: MemorySample, settings: PlanEviction['memory']): MemoryVerdict {
  const { workingSetBytes, capacityBytes } = sample;
  const thresholdBytes = Math.floor((capacityBytes * settings.thresholdPercent) / 100);
  const lowerBytes = Math.floor((capacityBytes * settings.lowerPercent) / 100);
  const percent = capacityBytes > 0 ? (workingSetBytes * 100) / capacityBytes : 0;
  const over = capacityBytes > 0 && workingSetBytes >= thresholdBytes;
  const targetBytes = over ? Math.max(workingSetBytes - lowerBytes, settings.minReclaimBytes) : 0;
  return { percent, thresholdBytes, lowerBytes, over, targetBytes };
}
