// Fault hooks: injected 429/500/503 with Retry-After, latency, forced 410 on watches, dropped and stalled
// watches, and a restart that loses the watch history but keeps the objects.
import { CoreV1Api, CustomObjectsApi, Watch } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer, type JsonObject } from '../../src/devserver/index.ts';
import { eventually, failure, policy, policyApi } from './helpers.ts';

let server: DevServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let watch: Watch;
const controllers: AbortController[] = [];

beforeEach(async () => {
  server = await startDevServer();
  const kc = server.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  watch = new Watch(kc);
});

afterEach(async () => {
  for (const controller of controllers.splice(0)) controller.abort();
  await server.close();
});

interface Stream {
  readonly events: { type: string; object: JsonObject }[];
  done: unknown;
}

async function open(query: Record<string, string>): Promise<Stream> {
  const stream: Stream = { events: [], done: undefined };
  const controller = await watch.watch(
    '/apis/nodeqos.io/v1alpha1/nodeqospolicies',
    query,
    (type, object: JsonObject) => stream.events.push({ type, object }),
    (err: unknown) => {
      stream.done = err ?? null;
    },
  );
  controllers.push(controller);
  return stream;
}

describe('failing responses', () => {
  it('fails the next N matching requests with the status and Retry-After, then recovers', async () => {
    server.faults.failNext({
      status: 503,
      count: 2,
      retryAfterSeconds: 7,
      match: r => r.verb === 'list' && r.resource === 'namespaces',
    });
    await core.listNode();
    const first = await failure(core.listNamespace());
    expect(first.code).toBe(503);
    expect(first.headers['retry-after']).toBe('7');
    expect(first.status).toMatchObject({
      kind: 'Status',
      reason: 'ServiceUnavailable',
      code: 503,
      details: { retryAfterSeconds: 7 },
    });
    expect((await failure(core.listNamespace())).code).toBe(503);
    const list = await core.listNamespace();
    expect(list.items.length).toBeGreaterThan(0);
  });

  it('supports 429 and 500 and matches every request without a predicate', async () => {
    server.faults.failNext({ status: 429, count: 1 });
    const throttled = await failure(core.readNamespace({ name: 'default' }));
    expect(throttled.code).toBe(429);
    expect(throttled.status.reason).toBe('TooManyRequests');
    server.faults.failNext({ status: 500, count: 1, match: r => r.method === 'POST' });
    await core.readNamespace({ name: 'default' });
    const broken = await failure(custom.createClusterCustomObject({ ...policyApi, body: policy('never') }));
    expect(broken.code).toBe(500);
    expect(server.store.get('nodeqospolicies.nodeqos.io', '', 'never')).toBeUndefined();
  });

  it('adds latency to matching requests and clears it', async () => {
    server.faults.addLatency(300, r => r.resource === 'nodes');
    let started = Date.now();
    await core.listNode();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    started = Date.now();
    await core.listNamespace();
    expect(Date.now() - started).toBeLessThan(290);
    server.faults.clearLatency();
    started = Date.now();
    await core.listNode();
    expect(Date.now() - started).toBeLessThan(290);
  });

  it('reset() discards pending faults', async () => {
    server.faults.failNext({ status: 500, count: 5 });
    server.faults.expireNextWatches(2);
    server.faults.reset();
    await core.listNamespace();
    const stream = await open({});
    await custom.createClusterCustomObject({ ...policyApi, body: policy('after-reset') });
    await eventually(() => stream.events.length === 1);
    expect(stream.events[0]?.type).toBe('ADDED');
  });
});

describe('watch faults', () => {
  it('forces 410 on the next watch whatever its resourceVersion', async () => {
    server.faults.expireNextWatches();
    const expired = await open({ resourceVersion: server.store.resourceVersion() });
    await eventually(() => expired.done !== undefined);
    expect(expired.events.map(e => [e.type, e.object.code])).toEqual([['ERROR', 410]]);
    const healthy = await open({ resourceVersion: server.store.resourceVersion() });
    await custom.createClusterCustomObject({ ...policyApi, body: policy('fine') });
    await eventually(() => healthy.events.length === 1);
  });

  it('drops open watches abruptly', async () => {
    const stream = await open({});
    await eventually(() => server.faults.openWatches() === 1);
    expect(server.faults.dropWatches()).toBe(1);
    await eventually(() => stream.done !== undefined);
    expect(stream.done).toBeInstanceOf(Error);
    expect(server.faults.openWatches()).toBe(0);
  });

  it('stalls open watches: the connection stays open but nothing arrives', async () => {
    const stalled = await open({});
    await eventually(() => server.faults.openWatches() === 1);
    expect(server.faults.stallWatches()).toBe(1);
    const fresh = await open({});
    await custom.createClusterCustomObject({ ...policyApi, body: policy('unseen') });
    await eventually(() => fresh.events.length === 1);
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(stalled.events).toEqual([]);
    expect(stalled.done).toBeUndefined();
    expect(server.faults.openWatches()).toBe(2);
  });

  it('restart({loseHistory}) ends watches, keeps objects and makes old resourceVersions expire', async () => {
    const created = (await custom.createClusterCustomObject({
      ...policyApi,
      body: policy('kept'),
    })) as JsonObject;
    const oldRv = (created.metadata as JsonObject).resourceVersion as string;
    await custom.patchClusterCustomObject({
      ...policyApi,
      name: 'kept',
      body: [{ op: 'replace', path: '/spec/priority', value: 2 }],
    });
    const before = await open({ resourceVersion: oldRv });
    await eventually(() => before.events.length === 1);
    server.faults.restart({ loseHistory: true });
    await eventually(() => before.done !== undefined);
    expect(before.done).toBeNull();
    const resumed = await open({ resourceVersion: oldRv });
    await eventually(() => resumed.done !== undefined);
    expect(resumed.events.map(e => [e.type, e.object.code])).toEqual([['ERROR', 410]]);
    const list = (await custom.listClusterCustomObject(policyApi)) as { items: JsonObject[] };
    expect(list.items.map(i => (i.metadata as JsonObject).name)).toEqual(['kept']);
  });
});
