// The API server a chaos run drives, as a parameter: the embedded dev server (faults injected in-process, state read
// straight from its store), or any other server reached by a kubeconfig, such as a real kube-apiserver. Then the
// system under test talks to it through a fault-injecting proxy (fault-proxy.ts), and the harness reads state and
// records every plan version over the API itself, on connections the faults never touch.
import { KubeConfig } from '@kubernetes/client-node';
import {
  startDevServer,
  type DevServer,
  type FailureRule,
  type JsonObject,
  type RequestMatcher,
} from '../../src/devserver/index.ts';
import { errorMessage, isGone, isNotFound } from '../../src/kube/errors.ts';
import { KubeApiError, KubeHttp } from '../../src/kube/http.ts';
import { listAll, plansPath, policiesPath } from '../../src/kube/sources.ts';
import { FaultProxy } from './fault-proxy.ts';

/** The faults a run injects; the dev server's own and the proxy's both have them. */
export interface ChaosFaults {
  failNext(rule: FailureRule): void;
  addLatency(ms: number, match?: RequestMatcher): void;
  clearLatency(): void;
  expireNextWatches(count?: number): void;
  dropWatches(): number;
  stallWatches(): number;
  restart(options?: { loseHistory?: boolean }): void;
  reset(): void;
}

export const plansResource = 'nodeisolationplans.nodeqos.io';
export const policiesResource = 'nodeqospolicies.nodeqos.io';
export type ChaosResource = 'pods' | 'nodes' | typeof plansResource | typeof policiesResource;

const collections: Readonly<Record<ChaosResource, string>> = {
  pods: '/api/v1/pods',
  nodes: '/api/v1/nodes',
  [plansResource]: plansPath,
  [policiesResource]: policiesPath,
};

function itemPath(resource: ChaosResource, name: string, namespace: string | undefined): string {
  if (resource === 'pods') return `/api/v1/namespaces/${namespace ?? 'default'}/pods/${name}`;
  return `${collections[resource]}/${name}`;
}

export interface PlanChange {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: JsonObject;
  readonly resourceVersion: number;
}

export interface ChaosApiServer {
  /** For the report: which server, and how it was reached. */
  readonly description: string;
  /** Whether this is a server the suite does not own (real): the harness then cleans up what it created. */
  readonly external: boolean;
  /** The system under test's view: faults apply. */
  systemKubeConfig(): KubeConfig;
  /** The harness's own connection: faults never apply. */
  harnessKubeConfig(): KubeConfig;
  readonly faults: ChaosFaults;
  /** The dev server spares requests carrying the harness marker; a proxied server needs no marker. */
  readonly marksHarnessRequests: boolean;
  get(resource: ChaosResource, name: string, namespace?: string): Promise<JsonObject | undefined>;
  list(resource: ChaosResource): Promise<JsonObject[]>;
  /** Every stored change to a plan, in order. */
  onPlanChange(listener: (change: PlanChange) => void): Promise<void>;
  /** Times the plan record lost its place (410) and may have missed versions; 0 when it is complete. */
  readonly planHistoryGaps: number;
  close(): Promise<void>;
}

/**
 * The harness's requests on a server it does not own: a real kube-apiserver answers 429 "storage is
 * (re)initializing" while a watch cache fills (right after start, after a CRD appears), with Retry-After. The
 * harness waits as asked, for up to 30 s; the system under test has its own retries.
 */
export async function harnessRetrying<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof KubeApiError) || error.statusCode !== 429 || Date.now() > deadline) throw error;
      await new Promise(resolve => setTimeout(resolve, (error.retryAfterSeconds ?? 1) * 1000));
    }
  }
}

class EmbeddedApiServer implements ChaosApiServer {
  readonly description = 'embedded dev server (src/devserver)';
  readonly external = false;
  readonly marksHarnessRequests = true;
  readonly planHistoryGaps = 0;
  readonly server: DevServer;
  private unsubscribe: (() => void) | undefined;

  constructor(server: DevServer) {
    this.server = server;
  }

  get faults(): ChaosFaults {
    return this.server.faults;
  }

  systemKubeConfig(): KubeConfig {
    return this.server.kubeConfig();
  }

  harnessKubeConfig(): KubeConfig {
    return this.server.kubeConfig();
  }

  get(resource: ChaosResource, name: string, namespace?: string): Promise<JsonObject | undefined> {
    return Promise.resolve(this.server.store.get(resource, namespace ?? '', name));
  }

  list(resource: ChaosResource): Promise<JsonObject[]> {
    return Promise.resolve(this.server.store.list(resource));
  }

  /** From the store itself: a watch under faults may legitimately fold versions, the store never does. */
  onPlanChange(listener: (change: PlanChange) => void): Promise<void> {
    this.unsubscribe = this.server.store.subscribe(event => {
      if (event.resource === plansResource)
        listener({ type: event.type, object: event.object, resourceVersion: event.resourceVersion });
    });
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.server.close();
  }
}

class ExternalApiServer implements ChaosApiServer {
  readonly description: string;
  readonly external = true;
  readonly marksHarnessRequests = false;
  planHistoryGaps = 0;
  private readonly upstream: KubeConfig;
  private readonly http: KubeHttp;
  private readonly proxy: FaultProxy;
  private watch: { abort(): void } | undefined;
  private closed = false;

  constructor(upstream: KubeConfig, proxy: FaultProxy, description: string) {
    this.upstream = upstream;
    this.http = new KubeHttp(upstream);
    this.proxy = proxy;
    this.description = description;
  }

  get faults(): ChaosFaults {
    return this.proxy;
  }

  systemKubeConfig(): KubeConfig {
    return this.proxy.kubeConfig();
  }

  harnessKubeConfig(): KubeConfig {
    return this.upstream;
  }

  async get(resource: ChaosResource, name: string, namespace?: string): Promise<JsonObject | undefined> {
    try {
      return await harnessRetrying(() =>
        this.http.request<JsonObject>('GET', itemPath(resource, name, namespace)),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(resource: ChaosResource): Promise<JsonObject[]> {
    const page = await harnessRetrying(() => listAll(this.http, collections[resource], {}));
    return page.items as JsonObject[];
  }

  /**
   * A watch on the harness's own connection, resumed from its last resourceVersion when it ends. The server keeps
   * a few minutes of history, so a resumed watch misses nothing; a 410 would mean versions may be missing, and is
   * counted so the run can say its plan history is incomplete.
   */
  async onPlanChange(listener: (change: PlanChange) => void): Promise<void> {
    const page = await harnessRetrying(() => listAll(this.http, plansPath, {}));
    let resourceVersion = page.resourceVersion;
    for (const object of page.items as JsonObject[])
      listener({ type: 'ADDED', object, resourceVersion: Number(rvOf(object)) });
    const start = async (): Promise<void> => {
      if (this.closed) return;
      this.watch = await this.http.watch(
        plansPath,
        { resourceVersion, allowWatchBookmarks: true },
        event => {
          const object = event.object as JsonObject;
          if (event.type === 'ERROR') {
            if ((object as { code?: number }).code === 410) this.planHistoryGaps++;
            return;
          }
          const rv = rvOf(object);
          if (rv !== undefined) resourceVersion = rv;
          if (event.type === 'BOOKMARK') return;
          listener({ type: event.type, object, resourceVersion: Number(rv) });
        },
        error => {
          if (this.closed) return;
          if (isGone(error)) this.planHistoryGaps++;
          if (error !== null && error !== undefined && !isGone(error))
            process.stderr.write(`chaos plan history: watch ended: ${errorMessage(error)}\n`);
          setTimeout(() => void start(), 100);
        },
      );
    };
    await start();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watch?.abort();
    await this.proxy.close();
  }
}

function rvOf(object: JsonObject): string | undefined {
  const rv = (object.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

/** Where a run's API server comes from. */
export type ApiServerChoice =
  | { readonly kind: 'embedded'; readonly historyLimit: number }
  /** A server the suite does not own, reached by a kubeconfig file (a real kube-apiserver). */
  | { readonly kind: 'kubeconfig'; readonly path: string }
  /**
   * The embedded server, but driven exactly as an external one (proxy, API reads, API watch): verifies the
   * external path where no real server is available.
   */
  | { readonly kind: 'embedded-as-external'; readonly historyLimit: number };

export async function openApiServer(choice: ApiServerChoice): Promise<ChaosApiServer> {
  if (choice.kind === 'embedded')
    return new EmbeddedApiServer(await startDevServer({ historyLimit: choice.historyLimit }));
  if (choice.kind === 'kubeconfig') {
    const kc = new KubeConfig();
    kc.loadFromFile(choice.path);
    const proxy = await FaultProxy.start(kc);
    return new ExternalApiServer(
      kc,
      proxy,
      `${kc.getCurrentCluster()?.server ?? '?'} (kubeconfig ${choice.path}), through the chaos fault proxy`,
    );
  }
  const server = await startDevServer({ historyLimit: choice.historyLimit });
  const proxy = await FaultProxy.start(server.kubeConfig());
  const external = new ExternalApiServer(
    server.kubeConfig(),
    proxy,
    `embedded dev server driven as an external one (${server.url}), through the chaos fault proxy`,
  );
  return {
    description: external.description,
    external: true,
    marksHarnessRequests: false,
    faults: external.faults,
    get planHistoryGaps() {
      return external.planHistoryGaps;
    },
    systemKubeConfig: () => external.systemKubeConfig(),
    harnessKubeConfig: () => external.harnessKubeConfig(),
    get: (resource, name, namespace) => external.get(resource, name, namespace),
    list: resource => external.list(resource),
    onPlanChange: listener => external.onPlanChange(listener),
    close: async () => {
      await external.close();
      await server.close();
    },
  };
}
