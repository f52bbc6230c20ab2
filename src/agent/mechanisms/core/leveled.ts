// Ordering for knobs the kernel checks against the parent (Koordinator's LeveledUpdateBatch):
//   pass 1, top-down: a cgroup with children that must grow is first set to a value covering both old and
//                     new (cpuset: old ∪ new; quota: the new, larger quota), so its children may grow next;
//   pass 2, bottom-up: every cgroup gets its exact value, children before parents, so a parent shrinks last.
// cpuset v1: growing a child past its parent is EACCES, shrinking a parent under a child is EBUSY.
// cpu v1: a child's quota/period ratio above its parent's is EINVAL.
import { formatCpuList, parseCpuList } from '../../../api/cpulist.ts';
import type { CpuMax } from './codecs.ts';

export interface LevelNode<T> {
  readonly id: string;
  readonly current: T;
  readonly desired: T;
  /** Rewrite the desired value even when it is already there (periodic drift correction). */
  readonly force: boolean;
}

export interface LeveledRule<T> {
  /** The covering value to write in pass 1, or undefined when the node need not grow. */
  grow(current: T, desired: T): T | undefined;
  equal(a: T, b: T): boolean;
}

export interface LeveledWrite<T> {
  readonly node: LevelNode<T>;
  /** What the file holds right before this write. */
  readonly before: T;
  readonly value: T;
  readonly pass: 1 | 2;
}

/** levels[0] is the top (pod or QoS dir), later levels are its descendants. */
export function leveledWrites<T>(
  levels: readonly (readonly LevelNode<T>[])[],
  rule: LeveledRule<T>,
): LeveledWrite<T>[] {
  const writes: LeveledWrite<T>[] = [];
  const state = new Map<string, T>();
  // Leaves need no covering value: pass 2 gives them their exact value once every ancestor has grown.
  levels.forEach((level, depth) => {
    for (const node of level) {
      state.set(node.id, node.current);
      const grown = depth === levels.length - 1 ? undefined : rule.grow(node.current, node.desired);
      if (grown !== undefined && !rule.equal(grown, node.current)) {
        writes.push({ node, before: node.current, value: grown, pass: 1 });
        state.set(node.id, grown);
      }
    }
  });
  for (const level of [...levels].reverse()) {
    for (const node of level) {
      const now = state.get(node.id) ?? node.current;
      const alreadyWritten = writes.some(write => write.node.id === node.id);
      if (!rule.equal(now, node.desired) || (node.force && !alreadyWritten))
        writes.push({ node, before: now, value: node.desired, pass: 2 });
    }
  }
  return writes;
}

export const cpusetRule: LeveledRule<string> = {
  grow: (current, desired) => {
    const have = new Set(parseCpuList(current));
    const want = parseCpuList(desired);
    return want.every(cpu => have.has(cpu)) ? undefined : formatCpuList([...have, ...want]);
  },
  equal: (a, b) => formatCpuList(parseCpuList(a)) === formatCpuList(parseCpuList(b)),
};

/** CPUs per period; unlimited (-1) is infinite. */
export function quotaRatio(value: CpuMax): number {
  return value.quotaUs === -1 ? Number.POSITIVE_INFINITY : value.quotaUs / value.periodUs;
}

function growQuota(current: CpuMax, desired: CpuMax): CpuMax | undefined {
  return quotaRatio(desired) > quotaRatio(current) ? desired : undefined;
}

/** v2 cpu.max holds quota and period together. */
export const cpuMaxRule: LeveledRule<CpuMax> = {
  grow: growQuota,
  equal: (a, b) => a.quotaUs === b.quotaUs && a.periodUs === b.periodUs,
};

/** v1 cpu.cfs_quota_us: only the quota is written here (the period file follows); ordering still uses ratios. */
export const cfsQuotaRule: LeveledRule<CpuMax> = {
  grow: growQuota,
  equal: (a, b) => a.quotaUs === b.quotaUs,
};

/**
 * A child's quota under a parent quota on v1: its own limit (unlimited stays unlimited), lowered to the parent's
 * ratio when above it
 * (expressed in the child's own period, at least the kernel minimum of 1000 us).
 */
export function clampToParent(own: CpuMax, parent: CpuMax): CpuMax {
  // An unlimited child is always accepted: it runs within its parent's quota.
  if (own.quotaUs === -1 || parent.quotaUs === -1 || quotaRatio(own) <= quotaRatio(parent)) return own;
  return {
    quotaUs: Math.max(1000, Math.floor((parent.quotaUs * own.periodUs) / parent.periodUs)),
    periodUs: own.periodUs,
  };
}
