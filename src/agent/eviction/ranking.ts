// Which BE pods go first: kubelet's memory ranking (seed 003) restricted to nodeqos's BE class. Pure.
import type { QoSClass } from '../../api/group.ts';

/** One pod as the ranking sees it: its class, its priority and its usage against its request. */
export interface EvictionCandidate {
  readonly uid: string;
  /** namespace/name */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly qosClass: QoSClass;
  /** spec.priority; absent counts as 0, as the API server's default priority does. */
  readonly priority: number | undefined;
  /** Memory: working set bytes; CPU: millicores used. undefined: no sample (the pod cannot be credited). */
  readonly usage: number | undefined;
  /** Memory: request bytes; CPU: request millicores (0 when none). */
  readonly request: number;
}

export interface RankedVictim extends EvictionCandidate {
  /** What evicting the pod is expected to release: its usage (0 without a sample). */
  readonly credit: number;
}

/** A pod that is never a candidate, and why: the report and `nodeqos explain` name them. */
export interface Exempt {
  readonly key: string;
  readonly reason: 'not BE' | 'priority above threshold';
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Measured before unmeasured, then the larger overshoot of the request, then the larger usage. */
function compareMeasured(a: EvictionCandidate, b: EvictionCandidate): number {
  if (a.usage === undefined || b.usage === undefined)
    return compareNumbers(Number(a.usage === undefined), Number(b.usage === undefined));
  return compareNumbers(b.usage - b.request, a.usage - a.request) || compareNumbers(b.usage, a.usage);
}

/**
 * The order kubelet ranks memory victims in (seed 003: priority, usage above request, usage), applied to BE pods
 * only, with the pods above the priority threshold taken out first:
 *  1. lower spec.priority first;
 *  2. larger usage - request first (a pod over its request before one under it);
 *  3. larger usage first;
 *  4. pods without a usage sample last (kubelet puts them first; it can kill a pod it cannot measure, but this
 *     agent counts what each eviction releases, and an unmeasured pod releases an unknown amount);
 *  5. namespace/name, so equal pods always come out in one order.
 */
export function rankBEVictims(
  pods: readonly EvictionCandidate[],
  priorityThreshold: number,
): { ranked: RankedVictim[]; exempt: Exempt[] } {
  const exempt: Exempt[] = [];
  const eligible: EvictionCandidate[] = [];
  for (const pod of pods) {
    if (pod.qosClass !== 'BE') exempt.push({ key: pod.key, reason: 'not BE' });
    else if ((pod.priority ?? 0) > priorityThreshold)
      exempt.push({ key: pod.key, reason: 'priority above threshold' });
    else eligible.push(pod);
  }
  const ranked = [...eligible].sort(
    (a, b) =>
      compareNumbers(a.priority ?? 0, b.priority ?? 0) ||
      compareMeasured(a, b) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return { ranked: ranked.map(pod => ({ ...pod, credit: pod.usage ?? 0 })), exempt };
}
