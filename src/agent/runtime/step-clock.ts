// The liveness clock: when the agent's last queued step (plan apply, restore, resync) completed, and why the last
// one failed. A stuck or failing agent turns unhealthy after the bound, so the kubelet restarts it.

export interface RuntimeHealth {
  readonly ok: boolean;
  readonly reason?: string | undefined;
}

export class StepClock {
  readonly #now: () => number;
  readonly #boundMs: number;
  #lastStepAt: number;
  #lastStepError: string | undefined;

  constructor(now: () => number, boundMs: number) {
    this.#now = now;
    this.#boundMs = boundMs;
    this.#lastStepAt = now();
  }

  completed(): void {
    this.#lastStepAt = this.#now();
    this.#lastStepError = undefined;
  }

  failed(message: string): void {
    this.#lastStepError = message;
  }

  /** Healthy while steps keep completing within the bound (always, once the agent is stopping). */
  health(stopped: boolean): RuntimeHealth {
    const since = this.#now() - this.#lastStepAt;
    if (stopped || since <= this.#boundMs) return { ok: true };
    const why = this.#lastStepError === undefined ? 'a step is stuck' : `last error: ${this.#lastStepError}`;
    return { ok: false, reason: `no agent step completed for ${Math.round(since / 1000)} s (${why})` };
  }
}
