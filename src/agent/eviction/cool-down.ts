// When the next eviction round may start, and when a pod a PodDisruptionBudget protected may be tried again. Pure:
// the caller passes the clock.

export class EvictionCoolDown {
  readonly #coolDownMs: number;
  #lastEvictionAt: number | undefined;
  /** uid -> when it may be tried again (the API server refused it with 429). */
  readonly #refusedUntil = new Map<string, number>();

  constructor(coolDownSeconds: number, startedAt?: number) {
    this.#coolDownMs = coolDownSeconds * 1000;
    // Koordinator's CPU loop starts its clock at process start: a restarted agent does not evict on its first sample.
    this.#lastEvictionAt = startedAt;
  }

  /** A round may start: no eviction was accepted within the cool-down. */
  roundAllowed(now: number): boolean {
    return this.#lastEvictionAt === undefined || now >= this.#lastEvictionAt + this.#coolDownMs;
  }

  /** When the next round may start (undefined: now). */
  nextRoundAt(): number | undefined {
    return this.#lastEvictionAt === undefined ? undefined : this.#lastEvictionAt + this.#coolDownMs;
  }

  /** The clock moves only when a pod was let go: a round the API server refused entirely may be retried sooner. */
  evicted(now: number): void {
    this.#lastEvictionAt = now;
  }

  /** A PodDisruptionBudget said no: the pod is skipped until the cool-down has passed. */
  refused(uid: string, now: number): void {
    this.#refusedUntil.set(uid, now + this.#coolDownMs);
  }

  mayTry(uid: string, now: number): boolean {
    const until = this.#refusedUntil.get(uid);
    if (until === undefined) return true;
    if (now < until) return false;
    this.#refusedUntil.delete(uid);
    return true;
  }

  /** Forget pods that are gone, so the map does not grow with churn. */
  retain(uids: ReadonlySet<string>): void {
    for (const uid of this.#refusedUntil.keys()) if (!uids.has(uid)) this.#refusedUntil.delete(uid);
  }
}
