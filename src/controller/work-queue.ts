// Per-key work queue: deduplicated, debounced (trailing, with a max wait), retried with per-key backoff,
// bounded concurrency, and never two workers on the same key.
import { Backoff } from '../kube/backoff.ts';

export interface WorkQueueOptions {
  readonly concurrency: number;
  /** Quiet time after the last add before a key runs. */
  readonly debounceMs: number;
  /** Longest a key waits while adds keep coming. */
  readonly maxWaitMs: number;
  readonly retry: { readonly initialMs: number; readonly maxMs: number };
  readonly onError?: (key: string, error: unknown, retryInMs: number) => void;
  readonly onDepth?: (depth: number) => void;
}

interface Pending {
  firstAddedAt: number;
  timer: NodeJS.Timeout;
  /** A retry waiting out its backoff: new adds do not bring it forward. */
  retry: boolean;
}

/** Errors can ask for a minimum delay (HTTP 429/503 Retry-After). */
function retryAfterMs(error: unknown): number {
  const seconds = (error as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof seconds === 'number' ? seconds * 1000 : 0;
}

export class WorkQueue {
  private readonly worker: (key: string) => Promise<void>;
  private readonly options: WorkQueueOptions;
  private readonly pending = new Map<string, Pending>();
  private readonly ready: string[] = [];
  private readonly readySet = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly backoffs = new Map<string, Backoff>();
  private idleWaiters: (() => void)[] = [];
  private running = true;

  constructor(worker: (key: string) => Promise<void>, options: WorkQueueOptions) {
    this.worker = worker;
    this.options = options;
  }

  get depth(): number {
    return this.pending.size + this.ready.length;
  }

  /** Schedules a key after the debounce; repeated adds push it back, up to maxWaitMs after the first. */
  add(key: string): void {
    if (!this.running) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.readySet.has(key)) return;
    const now = Date.now();
    const existing = this.pending.get(key);
    if (existing?.retry) return;
    const firstAddedAt = existing?.firstAddedAt ?? now;
    if (existing) clearTimeout(existing.timer);
    const delay = Math.max(0, Math.min(this.options.debounceMs, firstAddedAt + this.options.maxWaitMs - now));
    this.schedule(key, delay, firstAddedAt, false);
  }

  private schedule(key: string, delayMs: number, firstAddedAt: number, retry: boolean): void {
    const timer = setTimeout(() => {
      this.pending.delete(key);
      this.makeReady(key);
    }, delayMs);
    this.pending.set(key, { firstAddedAt, timer, retry });
    this.reportDepth();
  }

  private makeReady(key: string): void {
    if (!this.running || this.readySet.has(key)) return;
    this.ready.push(key);
    this.readySet.add(key);
    this.reportDepth();
    this.pump();
  }

  private pump(): void {
    while (this.running && this.active.size < this.options.concurrency) {
      const index = this.ready.findIndex(key => !this.active.has(key));
      if (index < 0) break;
      const [key] = this.ready.splice(index, 1);
      if (key === undefined) break;
      this.readySet.delete(key);
      this.active.add(key);
      this.reportDepth();
      void this.process(key);
    }
    this.notifyIfIdle();
  }

  private async process(key: string): Promise<void> {
    try {
      await this.worker(key);
      this.backoffs.delete(key);
    } catch (error) {
      this.retryLater(key, error);
    } finally {
      this.active.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }

  private retryLater(key: string, error: unknown): void {
    const backoff = this.backoffs.get(key) ?? new Backoff(this.options.retry);
    this.backoffs.set(key, backoff);
    const delay = Math.max(backoff.next(), retryAfterMs(error));
    this.options.onError?.(key, error, delay);
    if (!this.running) return;
    this.dirty.delete(key);
    this.schedule(key, delay, Date.now(), true);
  }

  private reportDepth(): void {
    this.options.onDepth?.(this.depth);
  }

  private notifyIfIdle(): void {
    if (this.depth > 0 || this.active.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves when nothing is pending, ready or running. */
  idle(): Promise<void> {
    if (this.depth === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise(resolve => this.idleWaiters.push(resolve));
  }

  /** Drops everything not yet started and waits for the workers in flight. */
  async stop(): Promise<void> {
    this.running = false;
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.ready.length = 0;
    this.readySet.clear();
    this.dirty.clear();
    while (this.active.size > 0) await new Promise(resolve => setTimeout(resolve, 10));
    this.notifyIfIdle();
  }
}
