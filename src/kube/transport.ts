// What sources.ts, writers and status writers need of an API client: a JSON request and a watch. KubeHttp
// (client-node's authentication, the controller) and LiteKubeClient (src/kube/lite, the agent) both provide it.
import type { WatchEvent, WatchHandle } from './informer.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface TransportRequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

export interface KubeTransport {
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options?: TransportRequestOptions,
  ): Promise<T>;
  watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
}
