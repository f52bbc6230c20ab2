// /metrics (Prometheus text), /healthz and /readyz on one small HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(
  registries: readonly Registry[],
  port: number,
  ready: () => boolean,
  host = '0.0.0.0',
): Promise<MetricsServer> {
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
      response.writeHead(200).end('ok');
      return;
    }
    if (path === '/readyz') {
      const ok = ready();
      response.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'not ready');
      return;
    }
    response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
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
