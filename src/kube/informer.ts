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
  /** With transformed: the raw objects the transform refused (the informer treats them as on the watch path). */
  readonly rejected?: unknown[];
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
  /** Keeps only what the controller reads; undefined rejects the object (see "Rejected objects" below). */
  transform(raw: unknown): T | undefined;
  key(object: T): string;
  /** The key of a raw object, from its metadata alone: how a rejected object finds the cache entry it replaces. */
  rawKey(raw: unknown): string | undefined;
  resourceVersionOf(object: T): string | undefined;
}

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, object: T): void;
  onDelete?(object: T): void;
  onSynced?(): void;
  onRestart?(reason: string): void;
  /**
   * A new version of an object the transform rejects arrived (watch or relist). The cached object it replaces, if
   * any, is evicted and passed here; without this handler the eviction is reported through onDelete instead.
   */
  onRejected?(key: string, resourceVersion: string, evicted: T | undefined): void;
}

export interface InformerOptions {
  readonly stallMs: number;
  readonly backoff: { initialMs: number; maxMs: number };
  readonly logger: Logger;
}

function rawResourceVersion(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const metadata = (raw as { metadata?: unknown }).metadata;
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const rv = (metadata as { resourceVersion?: unknown }).resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

/** A watch that closes sooner than this is treated as failing, so a server that hangs up at once is not hammered. */
const minHealthyWatchMs = 1000;

// Rejected objects. A watch event or list item the transform rejects means the server holds a version this build
// cannot use. Keeping the previous cached object would make it stale forever (nothing would ever replace it), and
// the watch and relist paths used to disagree about it. Both paths now go through one function: the rejected version
// evicts the cached object exactly as a delete would, and leaves a tombstone (key -> resourceVersion) so an owner
// such as the controller can tell "rejected" from "absent" and rewrite it. A relist only reports a tombstone again
// when its resourceVersion changed, so a stable rejected object is not re-reported every relist.
export class Informer<T> {
  private readonly cache = new Map<string, T>();
  private readonly rejected = new Map<string, string>();
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

  /** The resourceVersion of the rejected version the server holds for `key`, if that is what it holds. */
  rejectedVersion(key: string): string | undefined {
    return this.rejected.get(key);
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

  /** The keys a list page holds, each cached or rejected exactly as on the watch path. */
  private applyPage(page: ListPage): Set<string> {
    const seen = new Set<string>();
    for (const raw of page.items) {
      const key = page.transformed === true ? this.keep(raw as T) : this.apply(raw);
      if (key !== undefined) seen.add(key);
    }
    // Objects a transformed page could not carry.
    for (const raw of page.rejected ?? []) {
      const key = this.apply(raw);
      if (key !== undefined) seen.add(key);
    }
    return seen;
  }

  private replace(page: ListPage): void {
    const seen = this.applyPage(page);
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.handlers.onDelete?.(object);
    }
    for (const key of this.rejected.keys()) if (!seen.has(key)) this.rejected.delete(key);
    this.resourceVersion = page.resourceVersion;
    this.touch();
    if (!this.synced) {
      this.synced = true;
      this.handlers.onSynced?.();
    }
  }

  /** One ADDED/MODIFIED object or list item, accepted or rejected; returns its key (undefined: not an object). */
  /** Caches an accepted (transformed) object; returns its key. */
  private keep(object: T): string {
    const key = this.source.key(object);
    this.rejected.delete(key);
    this.upsert(key, object);
    return key;
  }

  private apply(raw: unknown): string | undefined {
    const object = this.source.transform(raw);
    if (object !== undefined) return this.keep(object);
    const key = this.source.rawKey(raw);
    if (key === undefined) return undefined;
    const resourceVersion = rawResourceVersion(raw) ?? '';
    const evicted = this.cache.get(key);
    if (evicted === undefined && this.rejected.get(key) === resourceVersion) return key;
    this.cache.delete(key);
    this.rejected.set(key, resourceVersion);
    this.options.logger.warn(
      { resource: this.source.resource, key, resourceVersion, evicted: evicted !== undefined },
      'informer rejected an object: treated as deleted',
    );
    if (this.handlers.onRejected) this.handlers.onRejected(key, resourceVersion, evicted);
    else if (evicted !== undefined) this.handlers.onDelete?.(evicted);
    return key;
  }

  private evict(key: string): boolean {
    const previous = this.cache.get(key);
    if (previous === undefined) return false;
    this.cache.delete(key);
    this.handlers.onDelete?.(previous);
    return true;
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
    const rv = rawResourceVersion(event.object);
    if (rv !== undefined) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    this.backoff.reset();
    if (event.type !== 'DELETED') {
      this.apply(event.object);
      return;
    }
    // A delete is a delete whatever shape its last version had: the key comes from metadata when the transform
    // rejects it, so a rejected final version can neither keep a cached object alive nor leave a tombstone behind.
    const object = this.source.transform(event.object);
    const key = object === undefined ? this.source.rawKey(event.object) : this.source.key(object);
    if (key === undefined) return;
    this.rejected.delete(key);
    if (!this.evict(key) && object !== undefined) this.handlers.onDelete?.(object);
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
