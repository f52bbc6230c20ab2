// A list+watch cache that never gives up: restarts on every error with backoff, relists on 410, resumes
// from the last resourceVersion otherwise, and a watchdog restarts it when nothing happens for too long.
// client-node's own informer stops on most errors and caches whole objects; this one caches transformed ones.
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';
import { errorMessage, isGone } from './errors.ts';

export interface ListPage {
  readonly items: readonly unknown[];
  readonly resourceVersion: string;
  /**
   * The items went through the source's transform already (listAll does it page by page, so a 150k-pod list
   * never holds more than one page of raw objects); undefined objects are already dropped.
   */
  readonly transformed?: boolean;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface WatchHandle {
  abort(): void;
}

/** The I/O an informer needs; src/kube/sources.ts builds these on client-node. */
export interface InformerSource<T> {
  readonly resource: string;
  list(): Promise<ListPage>;
  watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
  /** Keeps only what the controller reads; undefined drops the object. */
  transform(raw: unknown): T | undefined;
  key(object: T): string;
  resourceVersionOf(object: T): string | undefined;
}

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, object: T): void;
  onDelete?(object: T): void;
  onSynced?(): void;
  onRestart?(reason: string): void;
}

export interface InformerOptions {
  readonly stallMs: number;
  readonly backoff: { initialMs: number; maxMs: number };
  readonly logger: Logger;
}

/** A watch that closes sooner than this is treated as failing, so a server that hangs up at once is not hammered. */
const minHealthyWatchMs = 1000;

export class Informer<T> {
  private readonly cache = new Map<string, T>();
  private readonly source: InformerSource<T>;
  private readonly handlers: InformerHandlers<T>;
  private readonly options: InformerOptions;
  private readonly backoff: Backoff;
  private resourceVersion = '';
  private watchHandle: WatchHandle | undefined;
  private running = false;
  private synced = false;
  private generation = 0;
  private lastActivity = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A restart is waiting out its backoff: the watchdog must not restart it again (that would push it back forever). */
  private retryPending = false;
  private watchStartedAt = 0;

  constructor(source: InformerSource<T>, handlers: InformerHandlers<T>, options: InformerOptions) {
    this.source = source;
    this.handlers = handlers;
    this.options = options;
    this.backoff = new Backoff(options.backoff);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get size(): number {
    return this.cache.size;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.watchdog = setInterval(
      () => {
        this.checkStall();
      },
      Math.max(100, Math.floor(this.options.stallMs / 4)),
    );
    this.watchdog.unref();
    this.relist();
  }

  stop(): void {
    this.running = false;
    this.generation++;
    clearInterval(this.watchdog);
    clearTimeout(this.retryTimer);
    this.retryPending = false;
    this.watchHandle?.abort();
    this.watchHandle = undefined;
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }

  private checkStall(): void {
    if (!this.running || this.retryPending || Date.now() - this.lastActivity < this.options.stallMs) return;
    this.restart('stalled: no list or watch activity', true);
  }

  /** Abandons the current list/watch (its late callbacks are ignored) and starts again after a backoff. */
  private restart(reason: string, relist: boolean): void {
    this.generation++;
    this.watchHandle?.abort();
    this.watchHandle = undefined;
    this.handlers.onRestart?.(reason);
    const delay = this.backoff.next();
    this.options.logger.warn(
      { resource: this.source.resource, reason, delayMs: delay, relist },
      'informer restarting',
    );
    this.touch();
    clearTimeout(this.retryTimer);
    this.retryPending = true;
    this.retryTimer = setTimeout(() => {
      this.retryPending = false;
      if (relist || this.resourceVersion === '') this.relist();
      else this.startWatch();
    }, delay);
  }

  private relist(): void {
    const generation = ++this.generation;
    this.touch();
    this.source.list().then(
      page => {
        if (generation !== this.generation || !this.running) return;
        this.replace(page);
        this.startWatch();
      },
      (error: unknown) => {
        if (generation !== this.generation || !this.running) return;
        this.restart(`list failed: ${errorMessage(error)}`, true);
      },
    );
  }

  private replace(page: ListPage): void {
    const seen = new Set<string>();
    for (const raw of page.items) {
      const object = page.transformed === true ? (raw as T) : this.source.transform(raw);
      if (object === undefined) continue;
      const key = this.source.key(object);
      seen.add(key);
      this.upsert(key, object);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.handlers.onDelete?.(object);
    }
    this.resourceVersion = page.resourceVersion;
    this.touch();
    if (!this.synced) {
      this.synced = true;
      this.handlers.onSynced?.();
    }
  }

  private upsert(key: string, object: T): void {
    const previous = this.cache.get(key);
    this.cache.set(key, object);
    if (previous === undefined) this.handlers.onAdd?.(object);
    else if (this.source.resourceVersionOf(previous) !== this.source.resourceVersionOf(object)) {
      this.handlers.onUpdate?.(previous, object);
    }
  }

  private startWatch(): void {
    const generation = ++this.generation;
    this.touch();
    this.watchStartedAt = Date.now();
    this.source
      .watch(
        this.resourceVersion,
        event => {
          if (generation === this.generation) this.onEvent(event);
        },
        error => {
          if (generation === this.generation && this.running) this.onWatchDone(error);
        },
      )
      .then(
        handle => {
          if (generation === this.generation) this.watchHandle = handle;
          else handle.abort();
        },
        (error: unknown) => {
          if (generation === this.generation && this.running) this.onWatchDone(error);
        },
      );
  }

  private onEvent(event: WatchEvent): void {
    this.touch();
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; message?: string };
      this.restart(`watch error ${status.code ?? ''}: ${status.message ?? ''}`, status.code === 410);
      return;
    }
    const rv = (event.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (rv !== undefined) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    this.backoff.reset();
    const object = this.source.transform(event.object);
    if (object === undefined) return;
    const key = this.source.key(object);
    if (event.type === 'DELETED') {
      const previous = this.cache.get(key);
      this.cache.delete(key);
      this.handlers.onDelete?.(previous ?? object);
    } else this.upsert(key, object);
  }

  private onWatchDone(error: unknown): void {
    const clean =
      error === null || error === undefined || (error as { name?: string }).name === 'TimeoutError';
    if (clean && Date.now() - this.watchStartedAt >= minHealthyWatchMs) {
      // A clean close or the client's inactivity timeout after a healthy watch: resume from here, at once.
      this.touch();
      this.startWatch();
      return;
    }
    if (clean) {
      this.restart('watch closed right after it opened', false);
      return;
    }
    this.restart(`watch failed: ${errorMessage(error)}`, isGone(error));
  }
}
