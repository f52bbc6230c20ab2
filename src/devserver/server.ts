// startDevServer: the HTTP listener on 127.0.0.1 that ties routing, handlers, watches, faults and the store
// together. This is an in-process stand-in for development and tests, NOT a kube-apiserver (see index.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { AdmissionPolicies } from './admission-policy/policy-admission.ts';
import { ApiError, internalError } from './api-error.ts';
import { TokenAuthority } from './authn/tokens.ts';
import { loadCrdDirectory, parseCrd, type CustomResourceDefinition } from './crds.ts';
import { dispatch, requestInfo, type DispatchContext } from './dispatch.ts';
import { Faults, type FailureRule, type RequestMatcher } from './faults.ts';
import { errorReply, sendReply, type Reply } from './http-io.ts';
import { devKubeConfig, writeKubeconfigFile } from './kubeconfig.ts';
import { ResourceRegistry } from './resource-registry.ts';
import { parseRoute } from './routes.ts';
import { ObjectStore } from './store.ts';
import { WatchHub } from './watch.ts';

export interface DevServerOptions {
  /** CRD objects to serve; when omitted, every CRD in `crdDir` is loaded. */
  readonly crds?: readonly unknown[];
  /** Directory of CRD YAML files (default: the repository's crds/). */
  readonly crdDir?: string;
  /** Port on 127.0.0.1 (default 0: any free port). */
  readonly port?: number;
  /** Events kept for watch resumption (default 1000); older resourceVersions get 410. */
  readonly historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms). */
  readonly bookmarkIntervalMs?: number;
  /** Create the default, kube-system, kube-public and kube-node-lease namespaces (default true). */
  readonly seedNamespaces?: boolean;
  readonly logger?: Logger;
  readonly clock?: () => Date;
}

export interface DevServerFaults {
  /** The next `count` requests matching `match` (all when omitted) get 429/500/503, with Retry-After if set. */
  failNext(rule: FailureRule): void;
  /** Adds `ms` of latency to matching requests (cumulative across rules). */
  addLatency(ms: number, match?: RequestMatcher): void;
  clearLatency(): void;
  /** The next `count` watch requests get an ERROR event with a 410 Status. */
  expireNextWatches(count?: number): void;
  /** Cuts every open watch connection; returns how many. */
  dropWatches(): number;
  /** Makes every open watch go silent without closing (half-open connection); returns how many. */
  stallWatches(): number;
  /** Open watch connections (stalled ones included). */
  openWatches(): number;
  /** Simulates a graceful API server restart: open watches end; with loseHistory, old RVs get 410. Objects stay. */
  restart(options?: { loseHistory?: boolean }): void;
  /** Clears failures, latency and forced expiries. */
  reset(): void;
}

export interface DevServer {
  readonly url: string;
  readonly port: number;
  /** A client-node KubeConfig for this server (context `dev`). */
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig file (mode 0600) pointing at this server. */
  writeKubeconfig(path: string): Promise<void>;
  /** Direct access to the objects, e.g. to seed or inspect state in tests (bypasses admission). */
  readonly store: ObjectStore;
  readonly resources: ResourceRegistry;
  readonly faults: DevServerFaults;
  /** Ends every open watch and stops listening. */
  close(): Promise<void>;
}

const defaultCrdDir = fileURLToPath(new URL('../../crds/', import.meta.url));
const seededNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function resolveCrds(options: DevServerOptions): Promise<CustomResourceDefinition[]> {
  if (options.crds !== undefined) return options.crds.map((crd, index) => parseCrd(crd, `crds[${index}]`));
  return loadCrdDirectory(options.crdDir ?? defaultCrdDir);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

interface Handling {
  ctx: DispatchContext;
  readonly faults: Faults;
  readonly logger: Logger;
}

async function handleRequest(handling: Handling, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { ctx, faults, logger } = handling;
  const method = req.method ?? 'GET';
  const url = new URL(`http://localhost${req.url ?? '/'}`);
  let reply: Reply | undefined;
  try {
    // Authentication first, as on a real server: a bad token is a 401 whatever the path.
    const user = ctx.tokens.authenticate(req.headers.authorization);
    const route = parseRoute(url.pathname, ctx.registry);
    const info = requestInfo(method, url, route);
    const latency = faults.latencyFor(info);
    if (latency > 0) await sleep(latency);
    const failure = faults.takeFailure(info);
    reply =
      failure === undefined
        ? await dispatch(ctx, route, info, { req, res, user })
        : errorReply(failure.error, failure.headers);
  } catch (error) {
    if (error instanceof ApiError) reply = errorReply(error);
    else {
      logger.error({ err: error, method, path: url.pathname }, 'devserver: request failed');
      reply = errorReply(internalError(error instanceof Error ? error.message : String(error)));
    }
  }
  if (reply === undefined) return;
  logger.debug({ method, path: url.pathname, status: reply.status }, 'devserver: request');
  if (!res.destroyed && !res.headersSent) sendReply(res, reply);
}

function seedNamespaces(store: ObjectStore): void {
  for (const name of seededNamespaces) {
    store.create('namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
      status: { phase: 'Active' },
    });
  }
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const registry = new ResourceRegistry(await resolveCrds(options));
  const now = options.clock ?? ((): Date => new Date());
  const store = new ObjectStore({ historyLimit: options.historyLimit ?? 1000, clock: now });
  if (options.seedNamespaces ?? true) seedNamespaces(store);
  const faults = new Faults();
  const watches = new WatchHub();
  const ctx: DispatchContext = {
    store,
    now,
    tokens: new TokenAuthority(store, now),
    policies: new AdmissionPolicies(store, registry),
    registry,
    watches,
    serverAddress: '',
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    takeWatchExpiry: () => faults.takeWatchExpiry(),
  };
  const handling: Handling = { ctx, faults, logger };
  const server = createServer((req, res) => {
    void handleRequest(handling, req, res);
  });
  const port = await listen(server, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  handling.ctx = { ...ctx, serverAddress: `127.0.0.1:${port}` };
  logger.info({ url, resources: registry.groups() }, 'devserver: listening (not a kube-apiserver)');

  const devFaults: DevServerFaults = {
    failNext: rule => {
      faults.failNext(rule);
    },
    addLatency: (ms, match) => {
      faults.addLatency(ms, match);
    },
    clearLatency: () => {
      faults.clearLatency();
    },
    expireNextWatches: count => {
      faults.expireNextWatches(count);
    },
    dropWatches: () => watches.dropAll(),
    stallWatches: () => watches.stallAll(),
    openWatches: () => watches.size,
    restart: restartOptions => {
      // A real API server shutting down gracefully ends its watch responses; clients re-watch from their RV.
      watches.endAll();
      server.closeIdleConnections();
      if (restartOptions?.loseHistory === true) store.forgetHistory();
      logger.info({ loseHistory: restartOptions?.loseHistory === true }, 'devserver: simulated restart');
    },
    reset: () => {
      faults.reset();
    },
  };

  return {
    url,
    port,
    kubeConfig: () => devKubeConfig(url),
    writeKubeconfig: path => writeKubeconfigFile(path, url),
    store,
    resources: registry,
    faults: devFaults,
    close: async () => {
      watches.endAll();
      const closed = new Promise<void>((resolve, reject) => {
        server.close(error => {
          if (error === undefined) resolve();
          else reject(error);
        });
      });
      server.closeAllConnections();
      await closed;
    },
  };
}
