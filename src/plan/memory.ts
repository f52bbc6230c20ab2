// memory.min/low/high/max from requests, limits and the class ratios, page-aligned and ordered.
import type { ResolvedClass } from './resolved-policy.ts';

export const pageSize = 4096;

export interface MemoryPlan {
  readonly minBytes: number | null;
  readonly lowBytes: number | null;
  readonly highBytes: number | null;
  readonly maxBytes: number | null;
}

export interface MemoryResult {
  readonly memory: MemoryPlan;
  readonly adjustments: readonly string[];
}

function pageFloor(bytes: number): number {
  return Math.floor(bytes / pageSize) * pageSize;
}

/**
 * min = request x minRatio, low = request x lowRatio, high = limit x highRatio, max = limit.
 * The kernel stores every value rounded down to a page, so the plan does too. Order is always
 * min <= low <= high <= max: when protection exceeds the throttle point, protection yields (low, then min,
 * come down to high), because protecting memory the pod is being throttled out of protects nothing.
 */
export function memoryFor(requestBytes: number, limitBytes: number | null, cls: ResolvedClass): MemoryResult {
  const adjustments: string[] = [];
  const max = limitBytes === null ? null : pageFloor(limitBytes);
  const high = limitBytes === null ? null : pageFloor(limitBytes * cls.highRatio);
  let low = pageFloor(requestBytes * cls.lowRatio);
  let min = pageFloor(requestBytes * cls.minRatio);
  const ceiling = high ?? max;
  if (ceiling !== null && low > ceiling) {
    adjustments.push(`memory.low ${low} lowered to memory.high ${ceiling}`);
    low = ceiling;
  }
  if (min > low) {
    adjustments.push(`memory.min ${min} lowered to memory.low ${low}`);
    min = low;
  }
  return { memory: { minBytes: min, lowBytes: low, highBytes: high, maxBytes: max }, adjustments };
}
