// Raw JSON requests to the API server through client-node's authentication (the same path its Watch takes).
// Raw JSON keeps RFC 3339 strings as strings and skips the generated classes' (de)serialisation, which matters
// when listing 150k pods; it also gives one code path for apply, status and merge patches.
import { HttpMethod, RequestContext, Watch, type KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import type { WatchEvent, WatchHandle } from './informer.ts';
import { KubeApiError } from './lite/api-error.ts';
import { isStaleConnectionError } from './lite/stale-connection.ts';

export { KubeApiError };

export type Query = Record<string, string | number | boolean | undefined>;

const methods = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
} as const;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

export class KubeHttp {
  readonly kubeConfig: KubeConfig;
  private readonly watcher: Watch;
  /**
   * client-node's applySecurityAuthentication builds a new undici Agent for every RequestContext, so every
   * request would open a new connection (a TCP and TLS handshake per plan write). The first one is kept and
   * reused: its TLS settings come from the cluster and user, which do not change for this KubeHttp. Headers
   * (the bearer token, which can rotate) are still taken from each request's context.
   */
  private dispatcher: ReturnType<RequestContext['getDispatcher']>;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
    this.watcher = new Watch(kubeConfig);
  }

  private url(path: string, query: Query = {}): URL {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  async request<T>(method: keyof typeof methods, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const ctx = new RequestContext(url.toString(), methods[method]);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const send = (): ReturnType<typeof fetch> =>
      fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        dispatcher: (this.dispatcher ??= ctx.getDispatcher()),
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
    // Connections are kept alive (one dispatcher): one that the server closed while idle is retried once.
    const response = await send().catch((error: unknown) => {
      if (isStaleConnectionError(error)) return send();
      throw error;
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok)
      throw new KubeApiError(
        `${method} ${path}`,
        response.status,
        parsed,
        response.headers.get('retry-after'),
      );
    return parsed as T;
  }

  async watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle> {
    const controller = await this.watcher.watch(
      path,
      query,
      (type: string, object: unknown) => {
        onEvent({ type: type as WatchEvent['type'], object });
      },
      onDone,
    );
    return {
      abort: () => {
        controller.abort();
      },
    };
  }
}
