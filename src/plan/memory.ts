// memory.min/low/high/max from requests, limits and the class ratios, page-aligned and ordered.
import type { ExplicitField, ResolvedClass } from './resolved-policy.ts';

export const pageSize = 4096;

export interface MemoryPlan {
  readonly minBytes: number | null;
  readonly lowBytes: number | null;
  readonly highBytes: number | null;
  readonly maxBytes: number | null;
}

export interface MemoryAdjustment {
  readonly knob: 'memory.low' | 'memory.min';
  readonly from: number;
  readonly to: number;
  /** The policy fields behind the adjustment that the policy set itself; empty when only defaults are at play. */
  readonly causes: readonly ExplicitField[];
}

export interface MemoryResult {
  readonly memory: MemoryPlan;
  readonly adjustments: readonly MemoryAdjustment[];
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
  const adjustments: MemoryAdjustment[] = [];
  const setOf = (fields: readonly ExplicitField[]): ExplicitField[] =>
    fields.filter(f => cls.explicit.has(f));
  const max = limitBytes === null ? null : pageFloor(limitBytes);
  const high = limitBytes === null ? null : pageFloor(limitBytes * cls.highRatio);
  let low = pageFloor(requestBytes * cls.lowRatio);
  let min = pageFloor(requestBytes * cls.minRatio);
  const ceiling = high ?? max;
  if (ceiling !== null && low > ceiling) {
    adjustments.push({
      knob: 'memory.low',
      from: low,
      to: ceiling,
      causes: setOf(['memory.lowRatio', 'memory.highRatio']),
    });
    low = ceiling;
  }
  if (min > low) {
    adjustments.push({
      knob: 'memory.min',
      from: min,
      to: low,
      causes: setOf(['memory.minRatio', 'memory.lowRatio', 'memory.highRatio']),
    });
    min = low;
  }
  return { memory: { minBytes: min, lowBytes: low, highBytes: high, maxBytes: max }, adjustments };
}
