// Exponential backoff with full jitter, shared by informer restarts and queue retries.
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor?: number;
  /** Injectable for deterministic tests; defaults to Math.random. */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly options: BackoffOptions;

  constructor(options: BackoffOptions) {
    this.options = options;
  }

  /** The delay before the next attempt; grows until reset(). */
  next(): number {
    const { initialMs, maxMs, factor = 2, random = Math.random } = this.options;
    const ceiling = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt++;
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
