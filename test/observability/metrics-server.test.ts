// The metrics server is bounded: connections are capped, idle ones are closed, and /healthz says why it fails.
import { connect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsServer, type MetricsServer } from '../../src/observability/metrics-server.ts';
import { eventually } from '../support/eventually.ts';

let server: MetricsServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = undefined;
});

/** Opens an idle connection; resolves with a flag that turns true when the server closes it. */
async function idleConnection(port: number): Promise<{ closed: () => boolean }> {
  let closed = false;
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => undefined);
  await new Promise<void>(resolve => socket.once('connect', resolve).once('error', () => resolve()));
  return { closed: () => closed };
}

describe('metrics server limits', () => {
  it('caps open connections, closes idle ones, and serves again afterwards', async () => {
    server = await startMetricsServer({
      registries: [new Registry()],
      port: 0,
      host: '127.0.0.1',
      ready: () => true,
      maxConnections: 16,
      idleTimeoutMs: 500,
    });
    const port = server.port;
    const flood: { closed: () => boolean }[] = [];
    for (let i = 0; i < 200; i++) flood.push(await idleConnection(port));
    // Beyond the cap the server drops connections at once; the rest are closed when idle too long.
    await eventually(
      () => expect(flood.filter(c => c.closed()).length).toBeGreaterThanOrEqual(200 - 16),
      2000,
    );
    await eventually(() => expect(flood.every(c => c.closed())).toBe(true), 5000);
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(200);
  });

  it('answers /healthz 503 with the reason when the process is not doing its job', async () => {
    let probe = { ok: false, reason: 'no agent step completed for 61 s (last error: boom)' };
    server = await startMetricsServer({
      registries: [new Registry()],
      port: 0,
      host: '127.0.0.1',
      ready: () => true,
      healthy: () => probe,
    });
    const failing = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(failing.status).toBe(503);
    expect(await failing.text()).toBe('unhealthy: no agent step completed for 61 s (last error: boom)');
    probe = { ok: true, reason: '' };
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  });
});
