// Watches through client-node's Watch and informer: replay from a resourceVersion, initial ADDED events,
// 410 for expired resourceVersions, selector transitions, timeouts, bookmarks, and close().
import {
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  Watch,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer, type JsonObject } from '../../src/devserver/index.ts';
import { eventually, pod, policy, policyApi } from './helpers.ts';

interface Seen {
  readonly type: string;
  readonly name: string;
  readonly object: JsonObject;
}

interface Recorder {
  readonly events: Seen[];
  done: Error | null | undefined;
  controller: AbortController;
}

let server: DevServer;
let custom: CustomObjectsApi;
let core: CoreV1Api;
let watch: Watch;
const recorders: Recorder[] = [];

beforeEach(async () => {
  server = await startDevServer({ historyLimit: 20, bookmarkIntervalMs: 50 });
  const kc = server.kubeConfig();
  custom = kc.makeApiClient(CustomObjectsApi);
  core = kc.makeApiClient(CoreV1Api);
  watch = new Watch(kc);
});

afterEach(async () => {
  for (const recorder of recorders.splice(0)) recorder.controller.abort();
  await server.close();
});

async function record(path: string, query: Record<string, string | number | boolean>): Promise<Recorder> {
  const recorder: Recorder = { events: [], done: undefined, controller: new AbortController() };
  recorder.controller = await watch.watch(
    path,
    query,
    (type, object: JsonObject) => {
      recorder.events.push({
        type,
        name: ((object.metadata as JsonObject | undefined)?.name as string | undefined) ?? '',
        object,
      });
    },
    (err: unknown) => {
      recorder.done = (err as Error | null) ?? null;
    },
  );
  recorders.push(recorder);
  return recorder;
}

const policiesPath = '/apis/nodeqos.io/v1alpha1/nodeqospolicies';

async function createPolicy(name: string, spec: JsonObject = {}): Promise<JsonObject> {
  return (await custom.createClusterCustomObject({ ...policyApi, body: policy(name, spec) })) as JsonObject;
}

function rv(object: JsonObject): string {
  return (object.metadata as JsonObject).resourceVersion as string;
}

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED after the given resourceVersion, replaying history first', async () => {
    const first = await createPolicy('w1');
    await createPolicy('w2');
    const recorder = await record(policiesPath, { resourceVersion: rv(first) });
    await custom.patchClusterCustomObject({
      ...policyApi,
      name: 'w1',
      body: [{ op: 'replace', path: '/spec/priority', value: 2 }],
    });
    await custom.deleteClusterCustomObject({ ...policyApi, name: 'w2' });
    await eventually(() => recorder.events.length === 3);
    expect(recorder.events.map(e => `${e.type}:${e.name}`)).toEqual([
      'ADDED:w2',
      'MODIFIED:w1',
      'DELETED:w2',
    ]);
    const versions = recorder.events.map(e => Number(rv(e.object)));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(recorder.events[0]?.object.kind).toBe('NodeQoSPolicy');
  });

  it('starts with the current objects as ADDED when no resourceVersion is given', async () => {
    await createPolicy('existing');
    const recorder = await record(policiesPath, {});
    await createPolicy('later');
    await eventually(() => recorder.events.length === 2);
    expect(recorder.events.map(e => `${e.type}:${e.name}`)).toEqual(['ADDED:existing', 'ADDED:later']);
  });

  it('sends an ERROR event with a 410 Status for a resourceVersion older than the history window', async () => {
    const first = await createPolicy('old');
    for (let i = 0; i < 25; i++) await createPolicy(`filler-${i}`);
    const recorder = await record(policiesPath, { resourceVersion: rv(first) });
    await eventually(() => recorder.done !== undefined);
    expect(recorder.events).toHaveLength(1);
    expect(recorder.events[0]?.type).toBe('ERROR');
    expect(recorder.events[0]?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('turns label transitions into ADDED and DELETED for selector watches', async () => {
    const created = await core.createNamespacedPod({
      namespace: 'default',
      body: pod('default', 'sel', { labels: { app: 'x' } }),
    });
    const recorder = await record('/api/v1/namespaces/default/pods', {
      resourceVersion: created.metadata?.resourceVersion ?? '',
      labelSelector: 'app=y',
    });
    const relabel = (app: string): Promise<V1Pod> =>
      core.patchNamespacedPod({
        name: 'sel',
        namespace: 'default',
        body: [{ op: 'replace', path: '/metadata/labels/app', value: app }],
      });
    await relabel('y');
    await relabel('y2');
    await eventually(() => recorder.events.length === 2);
    expect(
      recorder.events.map(
        e =>
          `${e.type}:${(e.object.metadata as JsonObject).labels ? JSON.stringify((e.object.metadata as JsonObject).labels) : ''}`,
      ),
    ).toEqual(['ADDED:{"app":"y"}', 'DELETED:{"app":"y"}']);
  });

  it('honors fieldSelector on watches across namespaces', async () => {
    const recorder = await record('/api/v1/pods', { fieldSelector: 'spec.nodeName=node-a' });
    await core.createNamespacedPod({
      namespace: 'default',
      body: pod('default', 'on-a', { nodeName: 'node-a' }),
    });
    await core.createNamespacedPod({
      namespace: 'kube-system',
      body: pod('kube-system', 'on-b', { nodeName: 'node-b' }),
    });
    await core.createNamespacedPod({
      namespace: 'kube-system',
      body: pod('kube-system', 'also-a', { nodeName: 'node-a' }),
    });
    await eventually(() => recorder.events.length === 2);
    expect(recorder.events.map(e => e.name)).toEqual(['on-a', 'also-a']);
  });

  it('accepts watch=1 and streams one JSON object per line', async () => {
    await createPolicy('raw');
    const response = await fetch(`${server.url}${policiesPath}?watch=1&timeoutSeconds=1`);
    expect(response.headers.get('content-type')).toBe('application/json');
    const lines = (await response.text()).trim().split('\n');
    expect(lines.map(line => (JSON.parse(line) as { type: string }).type)).toEqual(['ADDED']);
  });

  it('ends the stream after timeoutSeconds', async () => {
    const started = Date.now();
    const recorder = await record(policiesPath, { timeoutSeconds: 1 });
    await eventually(() => recorder.done !== undefined, 3000);
    expect(recorder.done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('sends BOOKMARK events carrying the current resourceVersion when allowed', async () => {
    const recorder = await record(policiesPath, { allowWatchBookmarks: true });
    await createPolicy('marked');
    await eventually(() =>
      recorder.events.some(e => e.type === 'BOOKMARK' && rv(e.object) === server.store.resourceVersion()),
    );
    const bookmark = recorder.events.find(e => e.type === 'BOOKMARK');
    expect(bookmark?.object).toMatchObject({ kind: 'NodeQoSPolicy', apiVersion: 'nodeqos.io/v1alpha1' });
  });

  it('ends every open watch on close()', async () => {
    const recorder = await record(policiesPath, {});
    await eventually(() => server.faults.openWatches() === 1);
    await server.close();
    await eventually(() => recorder.done !== undefined);
    expect(recorder.done).toBeNull();
    server = await startDevServer();
  });
});

describe('informer', () => {
  it('sees add, update and delete, and recovers from a lost history by relisting', async () => {
    const kc = server.kubeConfig();
    let lists = 0;
    const informer = makeInformer<KubernetesObject>(kc, policiesPath, async () => {
      lists += 1;
      return (await custom.listClusterCustomObject(policyApi)) as never;
    });
    const seen: string[] = [];
    informer.on('add', o => seen.push(`add:${o.metadata?.name ?? ''}`));
    informer.on('update', o => seen.push(`update:${o.metadata?.name ?? ''}`));
    informer.on('delete', o => seen.push(`delete:${o.metadata?.name ?? ''}`));
    await createPolicy('before-start');
    await informer.start();
    try {
      await createPolicy('inf');
      await custom.patchClusterCustomObject({
        ...policyApi,
        name: 'inf',
        body: [{ op: 'replace', path: '/spec/priority', value: 3 }],
      });
      await custom.deleteClusterCustomObject({ ...policyApi, name: 'before-start' });
      await eventually(() => seen.length === 4);
      expect(seen).toEqual(['add:before-start', 'add:inf', 'update:inf', 'delete:before-start']);
      expect(informer.list().map(o => o.metadata?.name)).toEqual(['inf']);

      // The informer misses an event on a stalled watch; the restart then loses the history it would resume
      // from, so only the 410 -> relist path can bring it back.
      await eventually(() => server.faults.openWatches() === 1);
      expect(server.faults.stallWatches()).toBe(1);
      await createPolicy('missed');
      expect(informer.get('missed')).toBeUndefined();
      server.faults.restart({ loseHistory: true });
      await eventually(() => informer.get('missed') !== undefined);
      await createPolicy('after-restart');
      await eventually(() => informer.get('after-restart') !== undefined);
      expect(seen.slice(4)).toEqual(['add:missed', 'add:after-restart']);
      expect(lists).toBe(2);
    } finally {
      await informer.stop();
    }
  });

  it('stops on a dropped connection (client-node 2.x behaviour) and resumes from its RV when restarted', async () => {
    const kc = server.kubeConfig();
    const informer = makeInformer<KubernetesObject>(
      kc,
      policiesPath,
      async () => (await custom.listClusterCustomObject(policyApi)) as never,
    );
    const errors: unknown[] = [];
    informer.on('error', err => {
      errors.push(err);
      setTimeout(() => void informer.start(), 20);
    });
    const added: string[] = [];
    informer.on('add', o => added.push(o.metadata?.name ?? ''));
    await informer.start();
    try {
      await eventually(() => server.faults.openWatches() === 1);
      expect(server.faults.dropWatches()).toBe(1);
      await createPolicy('while-down');
      await eventually(() => added.includes('while-down'));
      expect(errors).toHaveLength(1);
    } finally {
      await informer.stop();
    }
  });
});
