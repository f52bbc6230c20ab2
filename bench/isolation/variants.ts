// A setting under test plus the cpu.idle choice: what one row of the benchmark's tables is.
import type { Setting } from './node.ts';

export interface Variant {
  readonly label: string;
  readonly setting: Setting;
  /** The policy's spec.cpuSuppress.beIdle (nodeqos rows). */
  readonly beIdle?: boolean;
  /** cpu.idle=1 on the besteffort tier written by the benchmark (kubelet row what-if, no agent). */
  readonly tierIdle?: boolean;
  /** The agent's BE blkio throttle also written on the BE container directory (what-if, bench/isolation/node.ts). */
  readonly containerThrottle?: boolean;
  /** Only the BE workload runs (the BE-alone throughput baseline). */
  readonly noLs?: boolean;
}

/** The same list rotated by `by`: repetitions run the rows in a different order so drifting load hits all alike. */
export function rotate<T>(list: readonly T[], by: number): T[] {
  const k = ((by % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
