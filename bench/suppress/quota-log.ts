// Wraps the suppress loop's quota sink: every write that succeeded, with the time it completed, and a way to
// wait for the next write that satisfies a condition.
import type { QuotaSink } from '../../src/agent/suppress/loop.ts';

export interface QuotaWrite {
  readonly quotaUs: number;
  /** performance.now() when the sink's write resolved. */
  readonly at: number;
}

export class QuotaLog {
  readonly sink: QuotaSink;
  private readonly writes: QuotaWrite[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(inner: QuotaSink) {
    this.sink = async quotaUs => {
      await inner(quotaUs);
      this.writes.push({ quotaUs, at: performance.now() });
      for (const listener of this.listeners) listener();
    };
  }

  mark(): number {
    return this.writes.length;
  }

  /** The first write after `mark` that matches, or undefined when none came within `timeoutMs`. */
  next(
    mark: number,
    matches: (write: QuotaWrite) => boolean,
    timeoutMs: number,
  ): Promise<QuotaWrite | undefined> {
    const find = (): QuotaWrite | undefined => this.writes.slice(mark).find(matches);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise(resolve => {
      const finish = (write: QuotaWrite | undefined): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(write);
      };
      const listener = (): void => {
        const write = find();
        if (write) finish(write);
      };
      const timer = setTimeout(() => {
        finish(undefined);
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }
}
