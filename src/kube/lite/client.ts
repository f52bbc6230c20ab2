// A small Kubernetes API client on node:http/https (node-pool.ts), for the node agent: the handful of calls it makes (paged list, watch
// with bookmarks, merge patches of a plan's status) over one keep-alive connection pool, authenticated as
// config.ts found. No generated models and no @kubernetes/client-node: objects stay plain JSON, and the process
// does not pay for loading a client for every API group (docs/performance.md, "per-import RSS").
//
// request() and watch() have the shapes src/kube/sources.ts and src/kube/informer.ts expect of a transport, so an
// Informer runs on this client unchanged; the Informer keeps the resourceVersion, relists on 410 and re-watches.
import { KubeApiError, WatchInactivityError } from './api-error.ts';
import type { ClusterConnection } from './config.ts';
import { BodyTimeoutError, NodePool, type PoolResponse } from './node-pool.ts';
import { isStaleConnectionError } from './stale-connection.ts';

export type Query = Record<string, string | number | boolean | undefined>;
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly contentType?: string;
  /** Whole-request limit (default 60 s). */
  readonly timeoutMs?: number;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface LiteWatchHandle {
  /** Ends the watch; onDone is not called after an abort. */
  abort(): void;
  /** The resourceVersion of the last event or bookmark received ('' before the first). */
  readonly resourceVersion: string;
}

export interface ListPage {
  readonly items: unknown[];
  readonly resourceVersion: string;
  /** The continue token for the next page; undefined on the last page. */
  readonly continue: string | undefined;
}

export interface LiteClientOptions {
  /** Connections in the pool (default 4): each open watch holds one, requests share the rest. */
  readonly maxConnections?: number;
  /** How long an idle kept-alive connection stays open (default 30 s). */
  readonly keepAliveMs?: number;
  /** A watch that receives nothing for this long is ended with a WatchInactivityError (default 90 s). */
  readonly watchInactivityMs?: number;
  /** Server-side watch timeout range in seconds; each watch draws one (default 300-600, as client-go does). */
  readonly watchTimeoutSeconds?: readonly [number, number];
  readonly userAgent?: string;
}

interface ListBody {
  items?: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function resourceVersionOf(object: unknown): string | undefined {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

function parseJson(text: string, what: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${what}: response is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
}

export class LiteKubeClient {
  readonly connection: ClusterConnection;
  private readonly pool: NodePool;
  private readonly prefix: string;
  private readonly options: LiteClientOptions;

  constructor(connection: ClusterConnection, options: LiteClientOptions = {}) {
    this.connection = connection;
    this.options = options;
    this.prefix = connection.server.pathname.replace(/\/$/, '');
    this.pool = new NodePool(connection.server, {
      connections: options.maxConnections ?? 4,
      keepAliveMs: options.keepAliveMs ?? 30_000,
      tls: {
        ca: connection.ca,
        rejectUnauthorized: !connection.insecureSkipTlsVerify,
        servername: connection.tlsServerName,
        cert: connection.clientCertificate?.cert,
        key: connection.clientCertificate?.key,
      },
    });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.options.userAgent ?? 'nodeqos',
      ...extra,
    };
    const token = this.connection.bearerToken?.token();
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  /** A 401 is retried once when the token file had changed under us (kubelet rotated it since the last check). */
  private retryAfterUnauthorized(statusCode: number, attempt: number): boolean {
    return statusCode === 401 && attempt === 0 && this.connection.bearerToken?.refresh() === true;
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const fullPath = this.prefix + path + queryString(options.query);
    const what = `${method} ${path}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const extra: Record<string, string> =
      body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' };
    for (let attempt = 0; ; attempt++) {
      const send = (): Promise<PoolResponse> =>
        this.pool.request({
          method,
          path: fullPath,
          headers: this.headers(extra),
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
        });
      // A kept-alive connection the server closed while idle: sent once more on a new one.
      const response = await send().catch((error: unknown) => {
        if (isStaleConnectionError(error)) return send();
        throw error;
      });
      const text = await response.text();
      if (this.retryAfterUnauthorized(response.statusCode, attempt)) continue;
      const parsed = parseJson(text, what);
      if (response.statusCode < 200 || response.statusCode >= 300) {
        const retryAfter = response.headers['retry-after'];
        throw new KubeApiError(
          what,
          response.statusCode,
          parsed,
          typeof retryAfter === 'string' ? retryAfter : null,
        );
      }
      return parsed as T;
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** One page of a list: `limit` items from `continueToken` (undefined: the first page). */
  async listPage(path: string, query: Query, limit: number, continueToken?: string): Promise<ListPage> {
    const body = await this.request<ListBody>('GET', path, {
      query: { ...query, limit, continue: continueToken },
    });
    const next = body.metadata?.continue;
    return {
      items: body.items ?? [],
      resourceVersion: body.metadata?.resourceVersion ?? '',
      continue: next !== undefined && next !== '' ? next : undefined,
    };
  }

  /** Every page of a list in turn, so a caller can transform one page and drop it before the next arrives. */
  async *listPages(path: string, query: Query = {}, pageSize = 500): AsyncGenerator<ListPage> {
    let token: string | undefined;
    do {
      const page = await this.listPage(path, query, pageSize, token);
      yield page;
      token = page.continue;
    } while (token !== undefined);
  }

  /** The whole list (all pages); resourceVersion is the last page's, the one to watch from. */
  async listAll(
    path: string,
    query: Query = {},
    pageSize = 500,
  ): Promise<{ items: unknown[]; resourceVersion: string }> {
    const items: unknown[] = [];
    let resourceVersion = '';
    for await (const page of this.listPages(path, query, pageSize)) {
      for (const item of page.items) items.push(item);
      resourceVersion = page.resourceVersion || resourceVersion;
    }
    return { items, resourceVersion };
  }

  /** RFC 7386 merge patch of an object. */
  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body: patch, contentType: 'application/merge-patch+json' });
  }

  /** Merge patch of an object's status subresource (`<path>/status`, body `{ status }`). */
  patchStatus<T>(path: string, status: unknown): Promise<T> {
    return this.mergePatch<T>(`${path}/status`, { status });
  }

  private watchTimeoutSeconds(): number {
    const [low, high] = this.options.watchTimeoutSeconds ?? [300, 600];
    return Math.round(low + Math.random() * (high - low));
  }

  /**
   * Opens a watch (`watch=true` is added; pass resourceVersion and allowWatchBookmarks in query). Events arrive
   * in order through onEvent, an ERROR event (e.g. 410 Expired) included; onDone(null) when the server ends the
   * stream, onDone(error) when it fails (a KubeApiError for an HTTP error, WatchInactivityError after silence).
   * Resolves once the server has answered with 200, rejects when the watch cannot be opened.
   */
  async watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    onDone: (error: unknown) => void,
  ): Promise<LiteWatchHandle> {
    const abort = new AbortController();
    const state = { resourceVersion: String(query.resourceVersion ?? ''), aborted: false, done: false };
    const finish = (error: unknown): void => {
      if (state.done || state.aborted) return;
      state.done = true;
      onDone(error);
    };
    const fullQuery: Query = {
      timeoutSeconds: this.watchTimeoutSeconds(),
      ...query,
      watch: true,
    };
    const fullPath = this.prefix + path + queryString(fullQuery);
    let response;
    for (let attempt = 0; ; attempt++) {
      response = await this.pool.request({
        method: 'GET',
        path: fullPath,
        headers: this.headers({}),
        signal: abort.signal,
        bodyTimeoutMs: this.options.watchInactivityMs ?? 90_000,
        headersTimeoutMs: 60_000,
      });
      if (response.statusCode === 200) break;
      const text = await response.text();
      if (this.retryAfterUnauthorized(response.statusCode, attempt)) continue;
      const retryAfter = response.headers['retry-after'];
      throw new KubeApiError(
        `WATCH ${path}`,
        response.statusCode,
        parseJson(text, `WATCH ${path}`),
        typeof retryAfter === 'string' ? retryAfter : null,
      );
    }
    const stream = response.body;
    stream.setEncoding('utf8');
    let buffered = '';
    const deliver = (line: string): void => {
      if (line.trim() === '') return;
      const event = parseJson(line, `WATCH ${path}`) as WatchEvent;
      if (event.type !== 'ERROR') {
        const rv = resourceVersionOf(event.object);
        if (rv !== undefined) state.resourceVersion = rv;
      }
      onEvent(event);
    };
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0 && !state.aborted && !state.done) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          deliver(line);
        } catch (error) {
          finish(error);
          abort.abort();
          return;
        }
        newline = buffered.indexOf('\n');
      }
    });
    stream.on('end', () => {
      try {
        deliver(buffered);
        finish(null);
      } catch (error) {
        finish(error);
      }
    });
    stream.on('error', (error: Error) => {
      finish(
        error instanceof BodyTimeoutError
          ? new WatchInactivityError(
              `WATCH ${path}: nothing received for ${this.options.watchInactivityMs ?? 90_000} ms`,
            )
          : error,
      );
    });
    // A connection that drops mid-stream closes the body without 'end' (and sometimes without 'error').
    stream.on('close', () => {
      finish(Object.assign(new Error(`WATCH ${path}: connection closed`), { code: 'ECONNRESET' }));
    });
    return {
      abort: () => {
        state.aborted = true;
        abort.abort();
      },
      get resourceVersion() {
        return state.resourceVersion;
      },
    };
  }

  /** Closes the pool's connections (open watches end). */
  close(): Promise<void> {
    this.pool.destroy();
    return Promise.resolve();
  }
}
