// CRUD, discovery, selectors, optimistic concurrency, generation and the status subresource, all through
// the real @kubernetes/client-node client against the dev server.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type V1Lease,
  type V1Node,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer, type JsonObject } from '../../src/devserver/index.ts';
import {
  failure,
  pod,
  policy,
  policyApi,
  toCoreEvent,
  toEventsEvent,
  toLease,
  toNamespace,
  toNode,
  toPod,
} from './helpers.ts';

let server: DevServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  server = await startDevServer();
  const kc = server.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  objects = KubernetesObjectApi.makeApiClient(kc);
});

afterAll(async () => {
  await server.close();
});

async function getPolicy(name: string): Promise<JsonObject> {
  return (await custom.getClusterCustomObject({ ...policyApi, name })) as JsonObject;
}

async function createPolicy(body: JsonObject): Promise<JsonObject> {
  return (await custom.createClusterCustomObject({ ...policyApi, body })) as JsonObject;
}

function meta(object: JsonObject): Record<string, unknown> {
  return object.metadata as Record<string, unknown>;
}

describe('discovery', () => {
  it('lets KubernetesObjectApi resolve built-in and custom kinds', async () => {
    await createPolicy(policy('discovered'));
    const read = await objects.read({
      apiVersion: 'nodeqos.io/v1alpha1',
      kind: 'NodeQoSPolicy',
      metadata: { name: 'discovered' },
    });
    expect(read.metadata?.name).toBe('discovered');
    const leases = await objects.list('coordination.k8s.io/v1', 'Lease', 'default');
    expect(leases.items).toEqual([]);
  });

  it('lists resources with the /status subresource after the resource itself', async () => {
    const response = await fetch(`${server.url}/apis/nodeqos.io/v1alpha1`);
    const list = (await response.json()) as {
      resources: {
        name: string;
        kind: string;
        namespaced: boolean;
        verbs: string[];
        shortNames?: string[];
      }[];
    };
    const names = list.resources.map(r => r.name);
    expect(names).toEqual([
      'nodeisolationplans',
      'nodeisolationplans/status',
      'nodeqospolicies',
      'nodeqospolicies/status',
    ]);
    const policies = list.resources.find(r => r.name === 'nodeqospolicies');
    expect(policies).toMatchObject({ kind: 'NodeQoSPolicy', namespaced: false, shortNames: ['nqp'] });
    expect(policies?.verbs).toContain('watch');
  });

  it('serves /api, /apis, /version and /healthz', async () => {
    const api = (await (await fetch(`${server.url}/api`)).json()) as { versions: string[] };
    expect(api.versions).toEqual(['v1']);
    const apis = (await (await fetch(`${server.url}/apis`)).json()) as { groups: { name: string }[] };
    expect(apis.groups.map(g => g.name)).toEqual([
      'events.k8s.io',
      'policy',
      'coordination.k8s.io',
      'authentication.k8s.io',
      'admissionregistration.k8s.io',
      'nodeqos.io',
    ]);
    const version = (await (await fetch(`${server.url}/version`)).json()) as { gitVersion: string };
    expect(version.gitVersion).toContain('devserver');
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe('ok');
    const group = (await (await fetch(`${server.url}/apis/nodeqos.io`)).json()) as {
      preferredVersion: { groupVersion: string };
    };
    expect(group.preferredVersion.groupVersion).toBe('nodeqos.io/v1alpha1');
    const core = (await (await fetch(`${server.url}/api/v1`)).json()) as {
      resources: { name: string; group?: string; version?: string; kind: string; verbs: string[] }[];
    };
    expect(core.resources.find(r => r.name === 'pods/eviction')).toMatchObject({
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    });
    expect(core.resources.map(r => r.name)).toEqual([
      'namespaces',
      'namespaces/status',
      'nodes',
      'nodes/status',
      'pods',
      'pods/eviction',
      'pods/status',
      'events',
      'serviceaccounts',
      'serviceaccounts/token',
    ]);
    expect(core.resources.find(r => r.name === 'serviceaccounts/token')).toMatchObject({
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenRequest',
      verbs: ['create'],
    });
    expect((await fetch(`${server.url}/apis/nope.io/v1/things`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/v1/namespaces/default/pods/x/log`)).status).toBe(404);
  });
});

describe('CRUD', () => {
  it('creates with server-owned metadata, gets, replaces and deletes', async () => {
    const created = await createPolicy(policy('crud'));
    expect(meta(created)).toMatchObject({ name: 'crud', generation: 1 });
    expect(meta(created).uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta(created).creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const fetched = await getPolicy('crud');
    expect(fetched).toEqual(created);

    const spec = { ...(fetched.spec as JsonObject), priority: 9 };
    const replaced = (await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'crud',
      body: { ...fetched, spec },
    })) as JsonObject;
    expect((replaced.spec as JsonObject).priority).toBe(9);
    expect(Number(meta(replaced).resourceVersion)).toBeGreaterThan(Number(meta(created).resourceVersion));

    // A custom resource's delete answers a Success Status naming it, as kube-apiserver's does.
    const deleted = (await custom.deleteClusterCustomObject({ ...policyApi, name: 'crud' })) as JsonObject;
    expect(deleted).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'crud', kind: 'nodeqospolicies' },
    });
    const missing = await failure(custom.getClusterCustomObject({ ...policyApi, name: 'crud' }));
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
    });
  });

  it('answers 409 AlreadyExists for a duplicate name', async () => {
    await createPolicy(policy('dup'));
    const duplicate = await failure(createPolicy(policy('dup')));
    expect(duplicate.code).toBe(409);
    expect(duplicate.status.reason).toBe('AlreadyExists');
  });

  it('rejects a body whose kind does not match the endpoint', async () => {
    const wrong = await failure(createPolicy({ ...policy('wrong-kind'), kind: 'NodeIsolationPlan' }));
    expect(wrong.code).toBe(400);
    expect(wrong.status.reason).toBe('BadRequest');
  });

  it('fills generateName', async () => {
    const created = await core.createNamespacedPod({
      namespace: 'default',
      body: toPod({
        metadata: { generateName: 'gen-' },
        spec: { containers: [{ name: 'app', image: 'busybox' }] },
      }),
    });
    expect(created.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('keeps an object with finalizers until they are removed', async () => {
    await createPolicy({
      ...policy('final'),
      metadata: { name: 'final', finalizers: ['nodeqos.io/cleanup'] },
    });
    const marked = (await custom.deleteClusterCustomObject({ ...policyApi, name: 'final' })) as JsonObject;
    expect(meta(marked).deletionTimestamp).toBeDefined();
    const still = await getPolicy('final');
    await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'final',
      body: { ...still, metadata: { ...meta(still), finalizers: [] } },
    });
    expect((await failure(getPolicy('final'))).code).toBe(404);
  });
});

describe('list with selectors', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: toNamespace({ metadata: { name: 'team-a' } }) });
    await core.createNamespace({ body: toNamespace({ metadata: { name: 'team-b' } }) });
    const pods = [
      pod('team-a', 'web-1', { labels: { app: 'web', tier: 'front' }, nodeName: 'node-1' }),
      pod('team-a', 'web-2', { labels: { app: 'web' }, nodeName: 'node-2' }),
      pod('team-b', 'db-1', { labels: { app: 'db', tier: 'back' }, nodeName: 'node-1' }),
      pod('team-b', 'batch-1', { labels: { app: 'batch' } }),
    ];
    for (const p of pods) await core.createNamespacedPod({ namespace: p.metadata?.namespace ?? '', body: p });
  });

  async function names(query: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> {
    const list = await core.listPodForAllNamespaces(query);
    return list.items
      .map(p => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`)
      .filter(n => n.startsWith('team-'));
  }

  it('lists across namespaces and in one namespace, with the list resourceVersion', async () => {
    expect(await names({})).toEqual(['team-a/web-1', 'team-a/web-2', 'team-b/batch-1', 'team-b/db-1']);
    const teamB = await core.listNamespacedPod({ namespace: 'team-b' });
    expect(teamB.items.map(p => p.metadata?.name)).toEqual(['batch-1', 'db-1']);
    expect(teamB.metadata?.resourceVersion).toBe(server.store.resourceVersion());
  });

  it('supports =, ==, !=, in, notin, exists and !key label requirements', async () => {
    expect(await names({ labelSelector: 'app=web' })).toEqual(['team-a/web-1', 'team-a/web-2']);
    expect(await names({ labelSelector: 'app==db' })).toEqual(['team-b/db-1']);
    expect(await names({ labelSelector: 'app!=web' })).toEqual(['team-b/batch-1', 'team-b/db-1']);
    expect(await names({ labelSelector: 'app in (db, batch)' })).toEqual(['team-b/batch-1', 'team-b/db-1']);
    expect(await names({ labelSelector: 'app notin (web,db)' })).toEqual(['team-b/batch-1']);
    expect(await names({ labelSelector: 'tier' })).toEqual(['team-a/web-1', 'team-b/db-1']);
    expect(await names({ labelSelector: '!tier' })).toEqual(['team-a/web-2', 'team-b/batch-1']);
    expect(await names({ labelSelector: 'app=web,tier=front' })).toEqual(['team-a/web-1']);
  });

  it('supports metadata.name, metadata.namespace and spec.nodeName field selectors', async () => {
    expect(await names({ fieldSelector: 'spec.nodeName=node-1' })).toEqual(['team-a/web-1', 'team-b/db-1']);
    expect(await names({ fieldSelector: 'spec.nodeName==node-2' })).toEqual(['team-a/web-2']);
    expect(await names({ fieldSelector: 'spec.nodeName=' })).toEqual(['team-b/batch-1']);
    expect(await names({ fieldSelector: 'metadata.namespace!=team-a,spec.nodeName!=node-1' })).toEqual([
      'team-b/batch-1',
    ]);
    expect(await names({ fieldSelector: 'metadata.name=web-2' })).toEqual(['team-a/web-2']);
  });

  it('rejects bad selectors with 400', async () => {
    expect((await failure(core.listPodForAllNamespaces({ fieldSelector: 'spec.hostname=x' }))).code).toBe(
      400,
    );
    expect((await failure(core.listPodForAllNamespaces({ labelSelector: 'app in (a' }))).code).toBe(400);
    expect(
      (await failure(custom.listClusterCustomObject({ ...policyApi, fieldSelector: 'spec.nodeName=x' })))
        .code,
    ).toBe(400);
  });

  it('pages with limit and continue', async () => {
    const first = await core.listNamespacedPod({ namespace: 'team-a', limit: 1 });
    expect(first.items.map(p => p.metadata?.name)).toEqual(['web-1']);
    expect(first.metadata?._continue).toBeDefined();
    expect(first.metadata?.remainingItemCount).toBe(1);
    const second = await core.listNamespacedPod({
      namespace: 'team-a',
      limit: 1,
      _continue: first.metadata?._continue ?? '',
    });
    expect(second.items.map(p => p.metadata?.name)).toEqual(['web-2']);
    expect(second.metadata?._continue).toBeUndefined();
  });

  it('sends built-in list items without apiVersion/kind, custom ones with them', async () => {
    const raw = (await (await fetch(`${server.url}/api/v1/namespaces/team-a/pods`)).json()) as {
      items: JsonObject[];
    };
    expect(raw.items[0]?.kind).toBeUndefined();
    await createPolicy(policy('listed'));
    const policies = (await custom.listClusterCustomObject(policyApi)) as { items: JsonObject[] };
    expect(policies.items.every(item => item.kind === 'NodeQoSPolicy')).toBe(true);
  });
});

describe('optimistic concurrency and generation', () => {
  it('answers 409 Conflict when the body resourceVersion is stale', async () => {
    const created = await createPolicy(policy('stale'));
    await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'stale',
      body: { ...created, spec: { ...(created.spec as JsonObject), priority: 2 } },
    });
    const conflict = await failure(
      custom.replaceClusterCustomObject({
        ...policyApi,
        name: 'stale',
        body: { ...created, spec: { ...(created.spec as JsonObject), priority: 3 } },
      }),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.status.reason).toBe('Conflict');
    expect(conflict.status.message).toContain('the object has been modified');
  });

  it('requires a resourceVersion on custom resource updates but not on core ones', async () => {
    const created = await createPolicy(policy('no-rv'));
    const body = { ...created, metadata: { name: 'no-rv' } };
    const rejected = await failure(custom.replaceClusterCustomObject({ ...policyApi, name: 'no-rv', body }));
    expect(rejected.code).toBe(422);
    const node = await core.createNode({ body: toNode({ metadata: { name: 'unconditional' } }) });
    const updated = await core.replaceNode({
      name: 'unconditional',
      body: toNode({ metadata: { name: 'unconditional', labels: { x: 'y' } } }),
    });
    expect(updated.metadata?.labels).toEqual({ x: 'y' });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(node.metadata?.resourceVersion));
  });

  it('bumps generation on spec changes only, and a no-op update keeps the resourceVersion', async () => {
    const created = await createPolicy(policy('gen'));
    const relabeled = (await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'gen',
      body: { ...created, metadata: { ...meta(created), labels: { team: 'x' } } },
    })) as JsonObject;
    expect(meta(relabeled).generation).toBe(1);
    const withStatus = (await custom.replaceClusterCustomObjectStatus({
      ...policyApi,
      name: 'gen',
      body: { ...relabeled, status: { observedGeneration: 1, matchedNodes: 0 } },
    })) as JsonObject;
    expect(meta(withStatus).generation).toBe(1);
    const respec = (await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'gen',
      body: { ...withStatus, spec: { ...(withStatus.spec as JsonObject), priority: 50 } },
    })) as JsonObject;
    expect(meta(respec).generation).toBe(2);
    const same = (await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'gen',
      body: respec,
    })) as JsonObject;
    expect(meta(same).resourceVersion).toBe(meta(respec).resourceVersion);
  });
});

describe('status subresource', () => {
  it('drops status on create and ignores it on main-resource writes', async () => {
    const created = await createPolicy({ ...policy('split'), status: { matchedNodes: 3 } });
    expect(created.status).toBeUndefined();
    const replaced = (await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'split',
      body: { ...created, status: { matchedNodes: 4 } },
    })) as JsonObject;
    expect(replaced.status).toBeUndefined();
  });

  it('changes only status through /status', async () => {
    const current = await getPolicy('split');
    const body = {
      ...current,
      spec: { ...(current.spec as JsonObject), priority: 77 },
      status: { matchedNodes: 2 },
    };
    const written = (await custom.replaceClusterCustomObjectStatus({
      ...policyApi,
      name: 'split',
      body,
    })) as JsonObject;
    expect(written.status).toEqual({ matchedNodes: 2 });
    expect((written.spec as JsonObject).priority).toBe(1);
    const read = (await custom.getClusterCustomObjectStatus({ ...policyApi, name: 'split' })) as JsonObject;
    expect(read.status).toEqual({ matchedNodes: 2 });
    const after = (await custom.replaceClusterCustomObject({
      ...policyApi,
      name: 'split',
      body: { ...read, status: {} },
    })) as JsonObject;
    expect(after.status).toEqual({ matchedNodes: 2 });
  });

  it('keeps node status on create and splits it on update', async () => {
    const node = await core.createNode({
      body: toNode({ metadata: { name: 'node-status' }, status: { capacity: { cpu: '4' } } }),
    });
    expect(node.status?.capacity).toEqual({ cpu: '4' });
    const withCapacity = (cpu: string, resourceVersion: string | undefined): V1Node =>
      toNode({
        metadata: { name: 'node-status', resourceVersion: resourceVersion ?? '' },
        status: { capacity: { cpu } },
      });
    const replaced = await core.replaceNode({
      name: 'node-status',
      body: withCapacity('8', node.metadata?.resourceVersion),
    });
    expect(replaced.status?.capacity).toEqual({ cpu: '4' });
    const statusWritten = await core.replaceNodeStatus({
      name: 'node-status',
      body: withCapacity('8', replaced.metadata?.resourceVersion),
    });
    expect(statusWritten.status?.capacity).toEqual({ cpu: '8' });
  });
});

describe('other served resources', () => {
  it('serves leases with optimistic concurrency, as leader election needs', async () => {
    const kc = server.kubeConfig();
    const leases = kc.makeApiClient(CoordinationV1Api);
    const holder = (identity: string, resourceVersion?: string): V1Lease =>
      toLease({
        metadata: { name: 'nodeqos-controller', resourceVersion: resourceVersion ?? '' },
        spec: { holderIdentity: identity },
      });
    const lease = await leases.createNamespacedLease({ namespace: 'kube-system', body: holder('a') });
    const target = { name: 'nodeqos-controller', namespace: 'kube-system' };
    await leases.replaceNamespacedLease({ ...target, body: holder('b', lease.metadata?.resourceVersion) });
    const lost = await failure(
      leases.replaceNamespacedLease({ ...target, body: holder('c', lease.metadata?.resourceVersion) }),
    );
    expect(lost.code).toBe(409);
  });

  it('serves core/v1 and events.k8s.io/v1 events separately', async () => {
    const kc = server.kubeConfig();
    await core.createNamespacedEvent({
      namespace: 'default',
      body: toCoreEvent({
        metadata: { name: 'e1' },
        involvedObject: { kind: 'Node', name: 'n' },
        reason: 'Test',
        message: 'core',
      }),
    });
    const events = kc.makeApiClient(EventsV1Api);
    await events.createNamespacedEvent({
      namespace: 'default',
      body: toEventsEvent({
        metadata: { name: 'e2' },
        eventTime: '2024-01-01T00:00:00.000000Z',
        reportingController: 'nodeqos.io/controller',
        reportingInstance: 'x',
        action: 'Plan',
        reason: 'Test',
      }),
    });
    expect(
      (await core.listNamespacedEvent({ namespace: 'default' })).items.map(e => e.metadata.name),
    ).toEqual(['e1']);
    expect(
      (await events.listNamespacedEvent({ namespace: 'default' })).items.map(e => e.metadata?.name),
    ).toEqual(['e2']);
  });

  it('writes a kubeconfig file that client-node can load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodeqos-devserver-'));
    try {
      const path = join(dir, 'kubeconfig');
      await server.writeKubeconfig(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      const nodes = await kc.makeApiClient(CoreV1Api).listNode();
      expect(nodes.metadata?.resourceVersion).toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CRDs passed to startDevServer', () => {
  const widgets = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { kind: 'Widget', plural: 'widgets', shortNames: ['wd'] },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: { size: { type: 'integer' }, max: { type: 'integer' } },
                  'x-kubernetes-validations': [
                    {
                      rule: 'self.size <= self.max',
                      message: 'size must not exceed max',
                      fieldPath: '.size',
                    },
                  ],
                },
              },
            },
          },
        },
      ],
    },
  };

  it('serves exactly those CRDs, namespaced, with their schema and rules', async () => {
    const own = await startDevServer({ crds: [widgets], seedNamespaces: false });
    try {
      const api = own.kubeConfig().makeApiClient(CustomObjectsApi);
      const target = { group: 'example.com', version: 'v1', plural: 'widgets', namespace: 'ns1' };
      await api.createNamespacedCustomObject({
        ...target,
        body: {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: { name: 'w' },
          spec: { size: 1, max: 2 },
        },
      });
      const bad = await failure(
        api.createNamespacedCustomObject({
          ...target,
          body: {
            apiVersion: 'example.com/v1',
            kind: 'Widget',
            metadata: { name: 'x' },
            spec: { size: 3, max: 2 },
          },
        }),
      );
      expect((bad.status.details as JsonObject).causes).toEqual([
        expect.objectContaining({
          field: 'spec.size',
          message: 'Invalid value: size must not exceed max',
        }),
      ]);
      const all = (await (await fetch(`${own.url}/apis/example.com/v1/widgets`)).json()) as {
        items: JsonObject[];
      };
      expect(all.items.map(i => (i.metadata as JsonObject).namespace)).toEqual(['ns1']);
      expect((await fetch(`${own.url}/apis/nodeqos.io/v1alpha1/nodeqospolicies`)).status).toBe(404);
      expect((await core.listNamespace()).items.length).toBeGreaterThan(0);
      expect((await own.kubeConfig().makeApiClient(CoreV1Api).listNamespace()).items).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
