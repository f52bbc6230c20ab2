// /metrics (Prometheus text), /healthz and /readyz on one small HTTP server. It runs inside the agent on every node,
// so it is bounded: a capped number of connections, and idle or slow clients are cut off, so that a flood of
// connections can take neither the agent's file descriptors nor its memory.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface Probe {
  readonly ok: boolean;
  /** Said in the body when not ok (the kubelet logs it on a failed probe). */
  readonly reason?: string | undefined;
}

export interface MetricsServerOptions {
  readonly registries: readonly Registry[];
  readonly port: number;
  readonly host?: string | undefined;
  readonly ready: () => boolean;
  /** /healthz: the process is doing its job (default: always). A failing liveness probe restarts the container. */
  readonly healthy?: (() => Probe) | undefined;
  /** Open connections at most; more are refused at accept (default 64). */
  readonly maxConnections?: number | undefined;
  /** A connection idle this long, or a request not complete by then, is closed (default 10 s). */
  readonly idleTimeoutMs?: number | undefined;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registries, ready } = options;
  const healthy = options.healthy ?? ((): Probe => ({ ok: true }));
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      Promise.all(registries.map(r => r.metrics())).then(
        texts => {
          response.writeHead(200, { 'content-type': registries[0]?.contentType ?? 'text/plain' });
          response.end(texts.join('\n'));
        },
        (error: unknown) => {
          response.writeHead(500).end(String(error));
        },
      );
      return;
    }
    if (path === '/healthz') {
      const probe = healthy();
      response.writeHead(probe.ok ? 200 : 503).end(probe.ok ? 'ok' : `unhealthy: ${probe.reason ?? ''}`);
      return;
    }
    if (path === '/readyz') {
      const ok = ready();
      response.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'not ready');
      return;
    }
    response.writeHead(404).end('not found');
  });
  const idleMs = options.idleTimeoutMs ?? 10_000;
  server.maxConnections = options.maxConnections ?? 64;
  server.timeout = idleMs;
  server.keepAliveTimeout = Math.min(5000, idleMs);
  server.headersTimeout = idleMs;
  server.requestTimeout = idleMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise(resolve => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
