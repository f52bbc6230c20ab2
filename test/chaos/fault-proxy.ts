// A fault-injecting HTTP proxy in front of an API server the suite does not control (a real kube-apiserver): the
// controllers and agents talk to the proxy, which forwards to the server with the kubeconfig's credentials, and on
// demand fails requests (429/500/503 with Retry-After), delays them, answers watches with a 410 Expired ERROR event
// (what kube-apiserver sends for a resourceVersion it no longer has), cuts every open watch, or makes them go
// silent without closing (a half-open connection). The bookkeeping of failures, latency and forced expiries is the
// dev server's own (src/devserver/faults.ts), so both servers take the same faults.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../../src/devserver/api-error.ts';
import { Faults } from '../../src/devserver/faults.ts';
import type { FailureRule, RequestInfo, RequestMatcher, Verb } from '../../src/devserver/index.ts';
import { devKubeConfig } from '../../src/devserver/kubeconfig.ts';

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

function verbOf(method: string, name: string | undefined, query: URLSearchParams): Verb {
  const watch = query.get('watch');
  if (method === 'GET')
    return watch === 'true' || watch === '1' ? 'watch' : name === undefined ? 'list' : 'get';
  if (method === 'POST') return 'create';
  if (method === 'PUT') return 'update';
  if (method === 'PATCH') return 'patch';
  if (method === 'DELETE') return name === undefined ? 'deletecollection' : 'delete';
  return 'get';
}

/** What a fault matcher sees, from the URL alone: resource keys as the dev server spells them (`plural.group`). */
export function requestInfoOf(method: string, url: URL): RequestInfo {
  const base = { method, path: url.pathname, query: url.searchParams };
  const segments = url.pathname
    .split('/')
    .filter(s => s !== '')
    .map(s => decodeURIComponent(s));
  const [root, ...rest] = segments;
  const [group, afterGroup] =
    root === 'api' ? ['', rest.slice(1)] : root === 'apis' ? [rest[0] ?? '', rest.slice(2)] : ['', []];
  const namespaced = afterGroup[0] === 'namespaces' && afterGroup.length >= 3;
  const parts = namespaced ? afterGroup.slice(2) : afterGroup;
  const plural = parts[0];
  if (plural === undefined || (root !== 'api' && root !== 'apis')) {
    const verb: Verb = ['/healthz', '/readyz', '/livez'].includes(url.pathname) ? 'health' : 'discovery';
    return {
      ...base,
      verb,
      resource: undefined,
      namespace: undefined,
      name: undefined,
      subresource: undefined,
    };
  }
  const name = parts[1];
  return {
    ...base,
    verb: verbOf(method, name, url.searchParams),
    resource: group === '' ? plural : `${plural}.${group}`,
    namespace: namespaced ? afterGroup[1] : undefined,
    name,
    subresource: parts[2],
  };
}

interface OpenWatch {
  readonly client: ServerResponse;
  readonly upstream: ReturnType<typeof httpRequest>;
  response: IncomingMessage | undefined;
  stalled: boolean;
}

const expiredStatus = new ApiError(410, 'Expired', 'too old resource version (injected by the chaos proxy)');

export interface FaultProxyStats {
  forwarded: number;
  failed: number;
  expired: number;
  dropped: number;
  stalled: number;
}

export class FaultProxy {
  readonly faults = new Faults();
  readonly stats: FaultProxyStats = { forwarded: 0, failed: 0, expired: 0, dropped: 0, stalled: 0 };
  private readonly server: Server;
  private readonly target: URL;
  private readonly tls: RequestOptions;
  private readonly watches = new Set<OpenWatch>();
  private port = 0;

  private constructor(target: URL, tls: RequestOptions) {
    this.target = target;
    this.tls = tls;
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  /** A proxy to the current cluster of `upstream`, authenticating as its current user. */
  static async start(upstream: KubeConfig): Promise<FaultProxy> {
    const cluster = upstream.getCurrentCluster();
    if (!cluster) throw new Error('fault proxy: the kubeconfig has no current cluster');
    const tls: RequestOptions = {};
    await upstream.applyToHTTPSOptions(tls);
    const proxy = new FaultProxy(new URL(cluster.server), tls);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        resolve();
      });
    });
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the system under test uses: every request goes through the faults. */
  kubeConfig(): KubeConfig {
    return devKubeConfig(this.url);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://proxy');
    const info = requestInfoOf(method, url);
    const latency = this.faults.latencyFor(info);
    if (latency > 0) await sleep(latency);
    const failure = this.faults.takeFailure(info);
    if (failure) {
      this.stats.failed++;
      req.resume();
      res.writeHead(failure.error.code, { 'content-type': 'application/json', ...failure.headers });
      res.end(JSON.stringify(failure.error.toStatus()));
      return;
    }
    if (info.verb === 'watch' && this.faults.takeWatchExpiry()) {
      this.stats.expired++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: expiredStatus.toStatus() })}\n`);
      return;
    }
    this.forward(req, res, info.verb === 'watch');
  }

  private forward(req: IncomingMessage, res: ServerResponse, watch: boolean): void {
    this.stats.forwarded++;
    const headers = { ...req.headers, ...(this.tls.headers as Record<string, string> | undefined) };
    delete headers.host;
    delete headers.connection;
    const options: RequestOptions = {
      ...this.tls,
      method: req.method,
      hostname: this.target.hostname,
      port: this.target.port,
      path: req.url,
      headers,
    };
    const send = this.target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(options, response => {
      if (open) open.response = response;
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(res);
      response.on('error', () => res.destroy());
    });
    const open: OpenWatch | undefined = watch
      ? { client: res, upstream, response: undefined, stalled: false }
      : undefined;
    if (open) this.watches.add(open);
    upstream.on('error', error => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify(new ApiError(502, 'BadGateway', `chaos proxy: ${error.message}`).toStatus()));
      } else res.destroy();
    });
    res.on('close', () => {
      if (open) this.watches.delete(open);
      upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** The next `count` requests matching `match` fail with this status. */
  failNext(rule: FailureRule): void {
    this.faults.failNext(rule);
  }

  addLatency(ms: number, match?: RequestMatcher): void {
    this.faults.addLatency(ms, match);
  }

  clearLatency(): void {
    this.faults.clearLatency();
  }

  expireNextWatches(count = 1): void {
    this.faults.expireNextWatches(count);
  }

  /** Cuts every open watch, both ways; returns how many. */
  dropWatches(): number {
    const open = [...this.watches];
    this.watches.clear();
    for (const w of open) {
      w.client.destroy();
      w.upstream.destroy();
    }
    this.stats.dropped += open.length;
    return open.length;
  }

  /** Every open watch goes silent but stays open, until its client gives up on it. */
  stallWatches(): number {
    let count = 0;
    for (const w of this.watches) {
      if (w.stalled || !w.response) continue;
      w.stalled = true;
      w.response.unpipe(w.client);
      w.response.pause();
      count++;
    }
    this.stats.stalled += count;
    return count;
  }

  /**
   * The closest a proxy comes to restarting a server it does not own: every watch ends, and with loseHistory the
   * watches that resume next are told their resourceVersion is gone (410), as after etcd compaction.
   */
  restart(options: { loseHistory?: boolean } = {}): void {
    const dropped = this.dropWatches();
    if (options.loseHistory === true) this.faults.expireNextWatches(Math.max(1, dropped));
  }

  reset(): void {
    this.faults.reset();
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>(resolve => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
