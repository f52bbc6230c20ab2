// Per-pod exponential backoff after failed writes: one bad pod is retried less and less often, never blocking
// others. A changed plan entry for the pod retries at once.
import type { KnobFailure } from '../mechanisms/core/report.ts';

export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly now: () => number;
}

interface Entry {
  readonly failures: number;
  readonly retryAt: number;
  readonly specKey: string;
  /** What failed on the last attempt: reported again while the pod waits, so its status keeps the reason. */
  readonly last: readonly KnobFailure[];
}

export class PodBackoff {
  readonly #options: BackoffOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  /** When the pod may be tried again, or undefined when it may be tried now. */
  blockedUntil(uid: string, specKey: string): number | undefined {
    const entry = this.#entries.get(uid);
    if (!entry) return undefined;
    if (entry.specKey !== specKey) {
      this.#entries.delete(uid);
      return undefined;
    }
    return this.#options.now() < entry.retryAt ? entry.retryAt : undefined;
  }

  failed(uid: string, specKey: string, last: readonly KnobFailure[] = []): number {
    const failures = (this.#entries.get(uid)?.failures ?? 0) + 1;
    const delay = Math.min(this.#options.maxMs, this.#options.baseMs * 2 ** Math.min(failures - 1, 30));
    const retryAt = this.#options.now() + delay;
    this.#entries.set(uid, { failures, retryAt, specKey, last: [...last] });
    return retryAt;
  }

  /** The failures of the pod's last attempt (empty when it has none waiting). */
  lastFailures(uid: string): KnobFailure[] {
    return [...(this.#entries.get(uid)?.last ?? [])];
  }

  succeeded(uid: string): void {
    this.#entries.delete(uid);
  }

  keepOnly(uids: ReadonlySet<string>): void {
    for (const uid of this.#entries.keys()) if (!uids.has(uid)) this.#entries.delete(uid);
  }
}
