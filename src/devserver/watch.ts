// Watch streams: chunked JSON lines {"type","object"} replayed from the event history after the requested
// resourceVersion (or the current objects as ADDED when none is given), then live. Selector transitions
// become ADDED/DELETED as on a real server. An RV older than the history window gets an ERROR event
// carrying a 410 Status, then the stream ends.
import type { ServerResponse } from 'node:http';
import { badRequest, expired } from './api-error.ts';
import type { JsonObject } from './json.ts';
import { apiVersionOf } from './resource-types.ts';
import type { ResourceTarget } from './routes.ts';
import { selects, type Selection } from './selectors.ts';
import { metadataOf, type ObjectStore, type StoredEvent } from './store.ts';
import { presentObject } from './handlers/present.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: JsonObject;
}

export interface WatchParams {
  /** Undefined: start from the current state (synthetic ADDED events); '0' means the same. */
  readonly resourceVersion: number | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly bookmarks: boolean;
}

export function isWatchRequest(query: URLSearchParams): boolean {
  const watch = query.get('watch');
  return watch === 'true' || watch === '1';
}

export function parseWatchParams(query: URLSearchParams): WatchParams {
  const rv = query.get('resourceVersion');
  let resourceVersion: number | undefined;
  if (rv !== null && rv !== '' && rv !== '0') {
    if (!/^[0-9]+$/.test(rv))
      throw badRequest(`resourceVersion: Invalid value: "${rv}": must be an integer resource version`);
    resourceVersion = Number(rv);
  }
  const timeout = query.get('timeoutSeconds');
  let timeoutSeconds: number | undefined;
  if (timeout !== null && timeout !== '') {
    timeoutSeconds = Number(timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0)
      throw badRequest(`timeoutSeconds: must be a non-negative integer`);
  }
  const bookmarks = query.get('allowWatchBookmarks');
  return {
    resourceVersion,
    timeoutSeconds: timeoutSeconds === 0 ? undefined : timeoutSeconds,
    bookmarks: bookmarks === 'true' || bookmarks === '1',
  };
}

/** Turns a stored event into what a watch with this selection sees, or nothing. */
export function translateEvent(
  target: ResourceTarget,
  selection: Selection,
  event: StoredEvent,
): WatchEvent | undefined {
  if (event.resource !== target.type.key) return undefined;
  const now = selects(selection, event.object);
  const before = event.previous !== undefined && selects(selection, event.previous);
  const shown = presentObject(target.type, event.object);
  if (event.type === 'ADDED') return now ? { type: 'ADDED', object: shown } : undefined;
  if (event.type === 'DELETED') return now || before ? { type: 'DELETED', object: shown } : undefined;
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: shown };
  // Modified out of the selection: the watcher sees the old state deleted at this resourceVersion.
  if (!before) return undefined;
  const previous = presentObject(target.type, event.previous);
  return { type: 'DELETED', object: withResourceVersion(previous, event.resourceVersion) };
}

function withResourceVersion(object: JsonObject, revision: number): JsonObject {
  return { ...object, metadata: { ...metadataOf(object), resourceVersion: String(revision) } };
}

export interface WatchSessionOptions {
  readonly store: ObjectStore;
  readonly target: ResourceTarget;
  readonly selection: Selection;
  readonly params: WatchParams;
  readonly bookmarkIntervalMs: number;
  /** A fault asked for this watch to be answered with 410 regardless of its resourceVersion. */
  readonly forceExpired: boolean;
  readonly onEnd: (session: WatchSession) => void;
}

export class WatchSession {
  private readonly res: ServerResponse;
  private readonly options: WatchSessionOptions;
  private unsubscribe: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private stalled = false;
  private ended = false;

  constructor(res: ServerResponse, options: WatchSessionOptions) {
    this.res = res;
    this.options = options;
    res.on('close', () => {
      this.cleanup();
    });
  }

  get resource(): string {
    return this.options.target.type.key;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  start(): void {
    const { store, params } = this.options;
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    this.res.flushHeaders();
    const initial = this.initialEvents();
    if (initial === undefined) {
      const requested = String(params.resourceVersion ?? 0);
      const status = expired(
        `too old resource version: ${requested} (${store.oldestResumableRevision()})`,
      ).toStatus();
      this.write({ type: 'ERROR', object: status });
      this.end();
      return;
    }
    for (const event of initial) this.write(event);
    this.unsubscribe = store.subscribe(event => {
      this.deliver(event);
    });
    if (params.timeoutSeconds !== undefined)
      this.timers.push(
        setTimeout(() => {
          this.end();
        }, params.timeoutSeconds * 1000),
      );
    if (params.bookmarks)
      this.timers.push(
        setInterval(() => {
          this.bookmark();
        }, this.options.bookmarkIntervalMs),
      );
  }

  private initialEvents(): WatchEvent[] | undefined {
    const { store, target, selection, params, forceExpired } = this.options;
    if (forceExpired) return undefined;
    if (params.resourceVersion === undefined) {
      return store
        .list(target.type.key, target.namespace)
        .filter(object => selects(selection, object))
        .map(object => ({ type: 'ADDED', object: presentObject(target.type, object) }));
    }
    const history = store.eventsAfter(params.resourceVersion);
    if (history === undefined) return undefined;
    return history.flatMap(event => translateEvent(target, selection, event) ?? []);
  }

  private deliver(event: StoredEvent): void {
    const translated = translateEvent(this.options.target, this.options.selection, event);
    if (translated !== undefined) this.write(translated);
  }

  private bookmark(): void {
    const { type } = this.options.target;
    this.write({
      type: 'BOOKMARK',
      object: {
        kind: type.kind,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: this.options.store.resourceVersion() },
      },
    });
  }

  private write(event: WatchEvent): void {
    if (this.ended || this.stalled) return;
    this.res.write(`${JSON.stringify(event)}\n`);
  }

  /** Stops sending anything while keeping the connection open, like a half-open TCP connection. */
  stall(): void {
    this.stalled = true;
  }

  /** Ends the stream cleanly (the client sees the response end). */
  end(): void {
    if (this.ended) return;
    this.cleanup();
    this.res.end();
  }

  /** Cuts the connection abruptly (the client sees a reset). */
  drop(): void {
    this.cleanup();
    this.res.destroy();
  }

  private cleanup(): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.options.onEnd(this);
  }
}

/** The open watches, so faults and close() can reach them. */
export class WatchHub {
  private readonly sessions = new Set<WatchSession>();

  open(res: ServerResponse, options: Omit<WatchSessionOptions, 'onEnd'>): WatchSession {
    const session = new WatchSession(res, { ...options, onEnd: ended => this.sessions.delete(ended) });
    this.sessions.add(session);
    session.start();
    return session;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Open watches, optionally only those on one resource key. */
  list(resource?: string): WatchSession[] {
    return [...this.sessions].filter(session => resource === undefined || session.resource === resource);
  }

  endAll(): number {
    const all = this.list();
    for (const session of all) session.end();
    return all.length;
  }

  dropAll(): number {
    const all = this.list();
    for (const session of all) session.drop();
    return all.length;
  }

  stallAll(): number {
    const all = this.list().filter(session => !session.isStalled);
    for (const session of all) session.stall();
    return all.length;
  }
}
