// The lite client against the embedded API server, behind an authenticating TLS front (auth-front.ts): in-cluster
// token rotation (the file swapped the way kubelet does it), kubeconfig client certificates and contexts, paged
// lists with selectors, merge and status patches, watches with bookmarks, and through the Informer the 410 relist
// and the re-watch after a dropped or ended watch.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../../src/devserver/index.ts';
import { Informer } from '../../../src/kube/informer.ts';
import { KubeApiError } from '../../../src/kube/lite/api-error.ts';
import { LiteKubeClient, type WatchEvent } from '../../../src/kube/lite/client.ts';
import { inClusterConnection, kubeconfigConnection, loadConnection } from '../../../src/kube/lite/config.ts';
import { isGone } from '../../../src/kube/errors.ts';
import { agentPlanSource, plansPath, podSource } from '../../../src/kube/sources.ts';
import type { CachedPlan, InvalidPlan } from '../../../src/kube/transforms.ts';
import { plan, planPod, uids } from '../../agent/helpers/plans.ts';
import type { CachedPod } from '../../../src/kube/transforms.ts';
import { eventually } from '../../support/eventually.ts';
import {
  makeCertificates,
  removeCertificates,
  startAuthFront,
  type AuthFront,
  type Certificates,
} from './auth-front.ts';

const nodeName = 'node-lite';
let certificates: Certificates;
let server: DevServer;
let front: AuthFront;
let validTokens: Set<string>;
let dir: string;
const clients: LiteKubeClient[] = [];
const informers: Informer<CachedPod>[] = [];

beforeAll(() => {
  certificates = makeCertificates(`system:node:${nodeName}`);
});
afterAll(() => {
  removeCertificates(certificates);
});

beforeEach(async () => {
  server = await startDevServer({ bookmarkIntervalMs: 50, historyLimit: 50 });
  validTokens = new Set(['token-1']);
  front = await startAuthFront({
    certificates,
    upstream: server.url,
    tokenValid: token => validTokens.has(token),
  });
  dir = mkdtempSync(join(tmpdir(), 'nodeqos-lite-'));
});

afterEach(async () => {
  for (const informer of informers.splice(0)) informer.stop();
  await Promise.all(clients.splice(0).map(client => client.close()));
  await front.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function track(client: LiteKubeClient): LiteKubeClient {
  clients.push(client);
  return client;
}

/** A service account mount as kubelet writes it: files behind an atomically swapped `..data` symlink. */
function writeServiceAccount(saDir: string, token: string, generation: number): void {
  const data = join(saDir, `..2026_12_03_00_00_0${generation}`);
  mkdirSync(data);
  writeFileSync(join(data, 'token'), token);
  writeFileSync(join(data, 'ca.crt'), certificates.ca);
  writeFileSync(join(data, 'namespace'), 'nodeqos-system');
  symlinkSync(data, join(saDir, '..data_tmp'));
  renameSync(join(saDir, '..data_tmp'), join(saDir, '..data'));
  for (const name of ['token', 'ca.crt', 'namespace'])
    try {
      symlinkSync(join('..data', name), join(saDir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
}

function inClusterClient(tokenCheckIntervalMs: number): LiteKubeClient {
  const saDir = join(dir, 'sa');
  mkdirSync(saDir);
  writeServiceAccount(saDir, 'token-1', 1);
  return track(
    new LiteKubeClient(
      inClusterConnection({
        env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(front.port) },
        serviceAccountDir: saDir,
        tokenCheckIntervalMs,
      }),
    ),
  );
}

function pod(name: string, node: string, labels: Record<string, string> = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { nodeName: node, containers: [{ name: 'main', image: 'busybox' }] },
  };
}

async function createPod(client: LiteKubeClient, name: string, node = nodeName): Promise<void> {
  await client.request('POST', '/api/v1/namespaces/default/pods', { body: pod(name, node) });
}

describe('in-cluster authentication', () => {
  it('picks up a rotated service account token without a restart (periodic check)', async () => {
    const client = inClusterClient(50);
    expect(client.connection.namespace).toBe('nodeqos-system');
    await client.get('/api/v1/namespaces/default/pods');
    expect(front.log.at(-1)).toBe('token:token-1');
    // kubelet rotates the token; the server stops accepting the old one.
    writeServiceAccount(join(dir, 'sa'), 'token-2', 2);
    validTokens = new Set(['token-2']);
    await new Promise(resolve => setTimeout(resolve, 80));
    await client.get('/api/v1/namespaces/default/pods');
    expect(front.log.slice(-1)).toEqual(['token:token-2']);
    expect(front.log).not.toContain('denied');
  });

  it('re-reads the token at once on a 401 and retries once', async () => {
    const client = inClusterClient(3_600_000);
    await client.get('/api/v1/namespaces/default/pods');
    writeServiceAccount(join(dir, 'sa'), 'token-2', 2);
    validTokens = new Set(['token-2']);
    await client.get('/api/v1/namespaces/default/pods');
    expect(front.log).toEqual(['token:token-1', 'denied', 'token:token-2']);
  });

  it('a watch reopened after rotation authenticates with the new token', async () => {
    const client = inClusterClient(50);
    const source = podSource(client, nodeName);
    const informer = new Informer(
      source,
      {},
      { stallMs: 10_000, backoff: { initialMs: 20, maxMs: 100 }, logger: pino({ level: 'silent' }) },
    );
    informers.push(informer);
    informer.start();
    await eventually(() => informer.hasSynced);
    writeServiceAccount(join(dir, 'sa'), 'token-2', 2);
    validTokens = new Set(['token-2']);
    await new Promise(resolve => setTimeout(resolve, 80));
    server.faults.restart(); // the watch ends cleanly; the informer re-watches
    await createPod(client, 'after-rotation');
    await eventually(() => informer.get('default/after-rotation') !== undefined);
    expect(front.log.at(-1)).toBe('token:token-2');
  });

  it('refuses to start without the service environment, naming it', () => {
    expect(() => inClusterConnection({ env: {} })).toThrow(/KUBERNETES_SERVICE_HOST/);
  });

  it('an unauthorised request is a KubeApiError with status 401', async () => {
    const client = inClusterClient(3_600_000);
    validTokens = new Set();
    await expect(client.get('/api/v1/pods')).rejects.toMatchObject({ statusCode: 401 });
    await expect(client.get('/api/v1/pods')).rejects.toBeInstanceOf(KubeApiError);
  });
});

describe('kubeconfig authentication', () => {
  function writeKubeconfig(): string {
    const path = join(dir, 'config');
    writeFileSync(join(dir, 'ca.crt'), certificates.ca);
    writeFileSync(join(dir, 'token'), 'token-1\n');
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    writeFileSync(
      path,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'front', cluster: { server: front.url, 'certificate-authority': 'ca.crt' } }],
        users: [
          {
            name: 'node',
            user: {
              'client-certificate-data': b64(certificates.clientCert),
              'client-key-data': b64(certificates.clientKey),
            },
          },
          { name: 'bearer', user: { tokenFile: 'token' } },
          { name: 'stale', user: { token: 'revoked' } },
          { name: 'plugin', user: { exec: { command: 'aws' } } },
        ],
        contexts: [
          { name: 'as-node', context: { cluster: 'front', user: 'node', namespace: 'kube-system' } },
          { name: 'as-bearer', context: { cluster: 'front', user: 'bearer' } },
          { name: 'as-stale', context: { cluster: 'front', user: 'stale' } },
          { name: 'as-plugin', context: { cluster: 'front', user: 'plugin' } },
        ],
        'current-context': 'as-node',
      }),
    );
    return path;
  }

  it('authenticates with the current context client certificate, verified against the CA', async () => {
    const path = writeKubeconfig();
    const connection = loadConnection({ kubeconfig: path, env: {} });
    expect(connection.source).toBe(`kubeconfig ${path} context as-node`);
    expect(connection.namespace).toBe('kube-system');
    const client = track(new LiteKubeClient(connection));
    await client.get('/api/v1/namespaces');
    expect(front.log).toEqual([`cert:system:node:${nodeName}`]);
  });

  it('uses --context, $KUBECONFIG, and a token file relative to the kubeconfig', async () => {
    const path = writeKubeconfig();
    const client = track(
      new LiteKubeClient(
        kubeconfigConnection({
          context: 'as-bearer',
          env: { KUBECONFIG: `${join(dir, 'missing')}:${path}` },
        }),
      ),
    );
    await client.get('/api/v1/namespaces');
    expect(front.log).toEqual(['token:token-1']);
    const stale = track(new LiteKubeClient(kubeconfigConnection({ paths: [path], context: 'as-stale' })));
    await expect(stale.get('/api/v1/namespaces')).rejects.toMatchObject({ statusCode: 401 });
  });

  it('refuses what it does not support and missing contexts, naming the field', () => {
    const path = writeKubeconfig();
    expect(() => kubeconfigConnection({ paths: [path], context: 'as-plugin' })).toThrow(
      /user plugin: exec: not supported/,
    );
    expect(() => kubeconfigConnection({ paths: [path], context: 'nope' })).toThrow(/context nope not found/);
  });

  it('rejects a server whose certificate does not chain to the configured CA', async () => {
    const other = makeCertificates('x');
    try {
      const client = track(
        new LiteKubeClient({ ...kubeconfigConnection({ paths: [writeKubeconfig()] }), ca: other.ca }),
      );
      await expect(client.get('/api/v1/namespaces')).rejects.toThrow(/certificate/i);
    } finally {
      removeCertificates(other);
    }
  });
});

describe('requests', () => {
  it('lists page by page with field and label selectors, over one kept-alive connection', async () => {
    const client = inClusterClient(3_600_000);
    for (let i = 0; i < 23; i++)
      server.store.create(
        'pods',
        pod(`p${i}`, i % 2 === 0 ? nodeName : 'other', { team: i % 3 === 0 ? 'a' : 'b' }) as never,
      );
    const pages = [];
    for await (const page of client.listPages(
      '/api/v1/pods',
      { fieldSelector: `spec.nodeName=${nodeName}` },
      5,
    ))
      pages.push(page.items.length);
    expect(pages).toEqual([5, 5, 2]);
    const all = await client.listAll(
      '/api/v1/pods',
      { fieldSelector: `spec.nodeName=${nodeName}`, labelSelector: 'team=a' },
      3,
    );
    expect(all.items.map(item => (item as { metadata: { name: string } }).metadata.name).sort()).toEqual([
      'p0',
      'p12',
      'p18',
      'p6',
    ]);
    expect(all.resourceVersion).toMatch(/^[0-9]+$/);
    // Five requests in a row: kept-alive connections are reused. (undici's pool may open a second one when a
    // request is dispatched in the same tick the first connection is being handed back.)
    expect(front.connections()).toBeLessThanOrEqual(2);
  });

  it('merge-patches an object and its status subresource', async () => {
    const client = inClusterClient(3_600_000);
    await createPod(client, 'patched');
    const path = '/api/v1/namespaces/default/pods/patched';
    const labelled = await client.mergePatch<{ metadata: { labels: Record<string, string> } }>(path, {
      metadata: { labels: { tier: 'be' } },
    });
    expect(labelled.metadata.labels).toEqual({ tier: 'be' });
    const withStatus = await client.patchStatus<{ status: { phase: string }; metadata: { labels: object } }>(
      path,
      {
        phase: 'Running',
      },
    );
    expect(withStatus.status.phase).toBe('Running');
    expect(withStatus.metadata.labels).toEqual({ tier: 'be' });
    await expect(client.get('/api/v1/namespaces/default/pods/absent')).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});

describe('watch', () => {
  it('delivers events and bookmarks, tracking the resourceVersion', async () => {
    const client = inClusterClient(3_600_000);
    const list = await client.listAll('/api/v1/pods', {});
    const events: WatchEvent[] = [];
    const handle = await client.watch(
      '/api/v1/pods',
      { resourceVersion: list.resourceVersion, allowWatchBookmarks: true },
      event => events.push(event),
      () => undefined,
    );
    await createPod(client, 'w1');
    await eventually(() => events.some(e => e.type === 'BOOKMARK') && events.some(e => e.type === 'ADDED'));
    const added = events.find(e => e.type === 'ADDED')?.object as { metadata: { resourceVersion: string } };
    expect(Number(handle.resourceVersion)).toBeGreaterThanOrEqual(Number(added.metadata.resourceVersion));
    handle.abort();
  });

  it('an ended watch reports done(null); an expired one an ERROR event with 410', async () => {
    const client = inClusterClient(3_600_000);
    const done: unknown[] = [];
    await client.watch(
      '/api/v1/pods',
      { resourceVersion: '1' },
      () => undefined,
      error => done.push(error),
    );
    server.faults.restart();
    await eventually(() => done.length === 1);
    expect(done[0]).toBeNull();
    server.faults.expireNextWatches();
    const events: WatchEvent[] = [];
    await client.watch(
      '/api/v1/pods',
      { resourceVersion: '1' },
      e => events.push(e),
      () => undefined,
    );
    await eventually(() => events.length === 1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
  });

  it('a watch that stays silent past the inactivity limit ends with a TimeoutError', async () => {
    const saDir = join(dir, 'sa');
    mkdirSync(saDir);
    writeServiceAccount(saDir, 'token-1', 1);
    const connection = inClusterConnection({
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(front.port) },
      serviceAccountDir: saDir,
    });
    const client = track(new LiteKubeClient(connection, { watchInactivityMs: 300 }));
    const done: unknown[] = [];
    await client.watch(
      '/api/v1/pods',
      { allowWatchBookmarks: true },
      () => undefined,
      error => done.push(error),
    );
    server.faults.stallWatches();
    await eventually(() => done.length === 1, 5_000);
    expect((done[0] as Error).name).toBe('TimeoutError');
  });
});

describe('Informer on the lite client', () => {
  function start(client: LiteKubeClient): { informer: Informer<CachedPod>; lists: () => number } {
    const source = podSource(client, nodeName);
    let lists = 0;
    const counted = {
      ...source,
      list: () => {
        lists++;
        return source.list();
      },
    };
    const informer = new Informer(
      counted,
      {},
      {
        stallMs: 10_000,
        backoff: { initialMs: 20, maxMs: 100 },
        logger: pino({ level: 'silent' }),
      },
    );
    informers.push(informer);
    informer.start();
    return { informer, lists: () => lists };
  }

  it('relists on 410 (history lost while disconnected) and drops what was deleted meanwhile', async () => {
    const client = inClusterClient(3_600_000);
    await createPod(client, 'kept');
    await createPod(client, 'doomed');
    const { informer, lists } = start(client);
    await eventually(() => informer.size === 2);
    expect(lists()).toBe(1);
    // More changes than the history holds, then a restart that forgets history: the re-watch gets 410.
    // (Written to the store directly: requests racing the simulated restart could be cut, which is not the point.)
    server.faults.dropWatches();
    server.store.delete('pods', 'default', 'doomed');
    for (let i = 0; i < 60; i++) server.store.create('pods', pod(`other-${i}`, 'elsewhere') as never);
    server.faults.restart({ loseHistory: true });
    server.store.create('pods', pod('later', nodeName) as never);
    await eventually(
      () => informer.get('default/later') !== undefined && informer.get('default/doomed') === undefined,
    );
    expect(lists()).toBeGreaterThanOrEqual(2);
    expect(
      informer
        .list()
        .map(p => p.metadata.name)
        .sort(),
    ).toEqual(['kept', 'later']);
  });

  it('relists on a 410 ERROR event from the watch', async () => {
    const client = inClusterClient(3_600_000);
    const { informer, lists } = start(client);
    await eventually(() => informer.hasSynced);
    server.faults.expireNextWatches();
    server.faults.restart();
    await eventually(() => lists() === 2);
    await createPod(client, 'after-410');
    await eventually(() => informer.get('default/after-410') !== undefined);
  });

  it('re-watches from its resourceVersion after a dropped connection, without relisting or losing events', async () => {
    const client = inClusterClient(3_600_000);
    const { informer, lists } = start(client);
    await eventually(() => informer.hasSynced && server.faults.openWatches() === 1);
    await new Promise(resolve => setTimeout(resolve, 1_100)); // a healthy watch (the informer's 1 s rule)
    expect(server.faults.dropWatches()).toBe(1);
    await createPod(client, 'during-gap');
    await eventually(() => informer.get('default/during-gap') !== undefined);
    expect(lists()).toBe(1);
  });

  it('isGone recognises the client errors', () => {
    expect(isGone(new KubeApiError('GET x', 410, undefined, null))).toBe(true);
  });
});

describe('what the agent needs, on the lite client', () => {
  it('follows its own plan through agentPlanSource and merge-patches its status', async () => {
    const client = inClusterClient(3_600_000);
    const own = plan(nodeName, [
      planPod({ uid: uids.ls, name: 'web', qosClass: 'LS', kubeQoS: 'Burstable' }),
    ]);
    server.store.create('nodeisolationplans.nodeqos.io', own);
    server.store.create('nodeisolationplans.nodeqos.io', plan('another-node', []));
    const informer = new Informer<CachedPlan | InvalidPlan>(
      agentPlanSource(client, nodeName),
      {},
      {
        stallMs: 10_000,
        backoff: { initialMs: 20, maxMs: 100 },
        logger: pino({ level: 'silent' }),
      },
    );
    informer.start();
    try {
      await eventually(() => informer.size === 1);
      expect(informer.list().map(p => p.metadata.name)).toEqual([nodeName]);
      const status = {
        appliedGeneration: 1,
        conditions: [
          {
            type: 'Applied',
            status: 'True',
            reason: 'Applied',
            message: '1 pod(s) applied',
            lastTransitionTime: '2026-12-04T00:00:00Z',
          },
        ],
      };
      await client.patchStatus(`${plansPath}/${nodeName}`, status);
      const stored = server.store.get('nodeisolationplans.nodeqos.io', '', nodeName) as { status?: unknown };
      expect(stored.status).toMatchObject(status);
      expect(front.log.every(who => who === 'token:token-1')).toBe(true);
    } finally {
      informer.stop();
    }
  });
});
