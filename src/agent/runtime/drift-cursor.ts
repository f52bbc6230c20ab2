// The drift check's share of pods: instead of re-reading the whole plan in one burst every resync interval, the
// runtime checks a few pods at a time, evenly spread over the interval, so each pod is still checked once per
// interval and the cost per step stays small whatever the plan's size.

export class DriftCursor {
  readonly #podsPerStep: number;
  /** The last uid handed out: the next step starts after it (uids in sorted order, wrapping round). */
  #after: string | undefined;

  constructor(podsPerStep: number) {
    if (!Number.isInteger(podsPerStep) || podsPerStep < 1)
      throw new RangeError(`pods per drift step ${podsPerStep} must be a positive integer`);
    this.#podsPerStep = podsPerStep;
  }

  /** Steps per round for `podCount` pods (at least one, so an empty plan still gets its status written). */
  steps(podCount: number): number {
    return Math.max(1, Math.ceil(podCount / this.#podsPerStep));
  }

  /** The next pods to check, and whether this share starts a new round (wrapped past the last uid). */
  next(uids: readonly string[]): { readonly pods: Set<string>; readonly roundStart: boolean } {
    const sorted = [...new Set(uids)].sort();
    const after = this.#after;
    const start = after === undefined ? 0 : sorted.findIndex(uid => uid > after);
    const from = start < 0 ? 0 : start;
    const pods = sorted.slice(from, from + this.#podsPerStep);
    const last = pods.at(-1);
    this.#after = last === undefined || last === sorted.at(-1) ? undefined : last;
    return { pods: new Set(pods), roundStart: from === 0 };
  }
}
