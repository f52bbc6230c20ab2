// One eviction round: ask the API server to evict the ranked pods in order until what they release reaches the
// target. The API server call is passed in (the runtime gives the Eviction API; tests give the embedded server).
import type { EvictionCoolDown } from './cool-down.ts';
import type { RankedVictim } from './ranking.ts';

/**
 * What the Eviction API said: evicted (2xx), gone (404: nothing left to release, counted as released), refused
 * (429: a PodDisruptionBudget; 500 with more than one budget), or failed (anything else; tried again next round).
 */
export type EvictOutcome =
  | { readonly kind: 'evicted' }
  | { readonly kind: 'gone' }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string };

export interface RoundResult {
  readonly evicted: RankedVictim[];
  readonly refused: { readonly pod: RankedVictim; readonly reason: string }[];
  /** Pods skipped because a budget refused them less than a cool-down ago. */
  readonly waiting: RankedVictim[];
  /** pending + the credits of the pods let go. */
  readonly credited: number;
}

export interface RoundInput {
  readonly ranked: readonly RankedVictim[];
  readonly target: number;
  /** Credit already on its way: pods evicted earlier and still terminating. */
  readonly pending: number;
  readonly coolDown: EvictionCoolDown;
  readonly now: number;
  readonly evict: (pod: RankedVictim) => Promise<EvictOutcome>;
}

/**
 * Pods are asked one at a time, in rank order, and the round stops as soon as the credit reaches the target: all
 * but the last pod let go were not enough without it (so never more than the target needs plus one pod). A refused
 * pod does not count; the next one in rank is asked instead, and the refused one again after the cool-down.
 */
export async function evictionRound(input: RoundInput): Promise<RoundResult> {
  const { coolDown, now } = input;
  const evicted: RankedVictim[] = [];
  const refused: RoundResult['refused'] = [];
  const waiting: RankedVictim[] = [];
  let credited = input.pending;
  for (const pod of input.ranked) {
    if (credited >= input.target) break;
    if (!coolDown.mayTry(pod.uid, now)) {
      waiting.push(pod);
      continue;
    }
    const outcome = await input.evict(pod);
    if (outcome.kind === 'evicted' || outcome.kind === 'gone') {
      evicted.push(pod);
      credited += pod.credit;
    } else {
      coolDown.refused(pod.uid, now);
      refused.push({ pod, reason: outcome.reason });
    }
  }
  if (evicted.length > 0) coolDown.evicted(now);
  return { evicted, refused, waiting, credited };
}
