// KubeHttp (the controller's client, client-node authentication) reuses its connections, and listAll transforms
// page by page.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { listAll } from '../../src/kube/sources.ts';
import {
  makeCertificates,
  removeCertificates,
  startAuthFront,
  type AuthFront,
  type Certificates,
} from './lite/auth-front.ts';

let certificates: Certificates;
let server: DevServer;
let front: AuthFront;

beforeAll(async () => {
  certificates = makeCertificates('controller');
  server = await startDevServer();
  front = await startAuthFront({ certificates, upstream: server.url, tokenValid: token => token === 'ctl' });
});

afterAll(async () => {
  await front.close();
  await server.close();
  removeCertificates(certificates);
});

function http(): KubeHttp {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    {
      name: 'front',
      server: front.url,
      caData: Buffer.from(certificates.ca).toString('base64'),
      skipTLSVerify: false,
    },
    { name: 'ctl', token: 'ctl' },
  );
  return new KubeHttp(kc);
}

describe('KubeHttp', () => {
  it('reuses kept-alive TLS connections across requests (one dispatcher per KubeHttp)', async () => {
    const client = http();
    const before = front.connections();
    for (let i = 0; i < 10; i++) await client.request('GET', '/api/v1/namespaces');
    expect(front.log.slice(-10).every(who => who === 'token:ctl')).toBe(true);
    // A dispatcher per request would open 10 connections.
    expect(front.connections() - before).toBeLessThanOrEqual(2);
  });

  it('listAll transforms page by page and drops what the transform drops', async () => {
    const client = http();
    for (let i = 0; i < 1203; i++)
      server.store.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p${i}`, namespace: 'default' },
        spec: { nodeName: 'n', containers: [] },
      });
    let calls = 0;
    const page = await listAll(client, '/api/v1/pods', {}, raw => {
      calls++;
      const name = (raw as { metadata: { name: string } }).metadata.name;
      return name.endsWith('7') ? undefined : name;
    });
    expect(calls).toBe(1203);
    expect(page.transformed).toBe(true);
    expect(page.items).toHaveLength(1203 - 120);
    expect(page.items).toContain('p1202');
    const raw = await listAll(client, '/api/v1/pods', {});
    expect(raw.transformed).toBe(false);
    expect(raw.items).toHaveLength(1203);
  });
});
