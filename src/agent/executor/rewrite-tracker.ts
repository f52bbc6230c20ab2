// Forced rewrites: a value that reads back equal is still rewritten once per interval (like Koordinator's
// --resource-force-update-seconds), which undoes drift a read cannot see (e.g. a value another writer will overwrite
// back on its own schedule). An interval of 0 turns them off: `nodeqos agent` does by default, so its drift check
// rewrites only what it reads drifted (docs/decisions/0120); the executor's own default stays 60 s.

export class RewriteTracker {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #lastWrite = new Map<string, number>();

  constructor(intervalMs: number, now: () => number) {
    if (!Number.isFinite(intervalMs) || intervalMs < 0)
      throw new RangeError(`forced rewrite interval ${intervalMs} ms must be 0 (off) or positive`);
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Whether an equal value at path is due for a rewrite. The first sighting starts the clock. */
  due(path: string): boolean {
    if (this.#intervalMs === 0) return false;
    const last = this.#lastWrite.get(path);
    if (last === undefined) {
      this.#lastWrite.set(path, this.#now());
      return false;
    }
    return this.#now() - last >= this.#intervalMs;
  }

  wrote(path: string): void {
    if (this.#intervalMs === 0) return;
    this.#lastWrite.set(path, this.#now());
  }

  /** Forgets paths not seen for two intervals (gone pods), as Koordinator's cache expires entries. */
  prune(): void {
    const cutoff = this.#now() - 2 * this.#intervalMs;
    for (const [path, at] of this.#lastWrite) if (at < cutoff) this.#lastWrite.delete(path);
  }
}
