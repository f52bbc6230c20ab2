// How many of the ranked pods a round takes. Pure.
import type { RankedVictim } from './ranking.ts';

/**
 * The shortest prefix of the ranking whose credits reach the target: every pod but the last was not enough on its
 * own, so a round never takes more than the target needs plus one pod. `pending` is what pods evicted in earlier
 * rounds will still release (they are terminating, their memory not yet freed), so they are not paid for twice.
 */
export function victimsFor(ranked: readonly RankedVictim[], target: number, pending = 0): RankedVictim[] {
  const chosen: RankedVictim[] = [];
  let credited = pending;
  for (const pod of ranked) {
    if (credited >= target) break;
    chosen.push(pod);
    credited += pod.credit;
  }
  return chosen;
}
