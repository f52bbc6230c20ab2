// Every patch content type through client-node: merge, JSON patch, strategic merge (built-in types only),
// server-side apply with managedFields, and patches of /status.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer, type JsonObject } from '../../../src/devserver/index.ts';
import { failure, policy, policyApi, toObject, toPod } from '../helpers.ts';

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

async function createPolicy(body: JsonObject): Promise<JsonObject> {
  return (await custom.createClusterCustomObject({ ...policyApi, body })) as JsonObject;
}

function spec(object: JsonObject | KubernetesObject): JsonObject {
  return (object as JsonObject).spec as JsonObject;
}

describe('merge patch', () => {
  it('merges objects and deletes with null', async () => {
    await createPolicy(policy('merge', { cpuBurst: { enabled: true, burstPercent: 20 } }));
    const patched = (await custom.patchClusterCustomObject(
      {
        ...policyApi,
        name: 'merge',
        body: { spec: { priority: 4, cpuBurst: null, nodeSelector: { matchLabels: { c: 'd' } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as JsonObject;
    expect(spec(patched).priority).toBe(4);
    expect(spec(patched).cpuBurst).toBeUndefined();
    expect(spec(patched).nodeSelector).toEqual({ matchLabels: { a: 'b', c: 'd' } });
  });

  it('treats a resourceVersion in the patch as a precondition', async () => {
    const created = await createPolicy(policy('merge-rv'));
    const stale = String(Number((created.metadata as JsonObject).resourceVersion) - 1);
    const conflict = await failure(
      custom.patchClusterCustomObject(
        {
          ...policyApi,
          name: 'merge-rv',
          body: { metadata: { resourceVersion: stale }, spec: { priority: 2 } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(conflict.code).toBe(409);
  });
});

describe('JSON patch', () => {
  it('is what CustomObjectsApi sends by default, with add/replace/remove/move/copy/test', async () => {
    await createPolicy(policy('jsonpatch'));
    const patched = (await custom.patchClusterCustomObject({
      ...policyApi,
      name: 'jsonpatch',
      body: [
        { op: 'test', path: '/spec/priority', value: 1 },
        { op: 'replace', path: '/spec/priority', value: 3 },
        { op: 'add', path: '/spec/cpuSuppress/curve/1', value: { pressure: 60, ratio: 0.5 } },
        { op: 'copy', from: '/spec/nodeSelector/matchLabels', path: '/metadata/labels' },
        { op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/moved' },
        { op: 'remove', path: '/spec/nodeSelector' },
      ],
    })) as JsonObject;
    expect(spec(patched).priority).toBe(3);
    expect((spec(patched).cpuSuppress as JsonObject).curve).toEqual([
      { pressure: 40, ratio: 1 },
      { pressure: 60, ratio: 0.5 },
      { pressure: 90, ratio: 0.2 },
    ]);
    expect((patched.metadata as JsonObject).labels).toEqual({ moved: 'b' });
    expect(spec(patched).nodeSelector).toBeUndefined();
  });

  it('rejects the whole patch when a test fails (422) and a malformed one (400)', async () => {
    const failed = await failure(
      custom.patchClusterCustomObject({
        ...policyApi,
        name: 'jsonpatch',
        body: [
          { op: 'replace', path: '/spec/priority', value: 8 },
          { op: 'test', path: '/spec/priority', value: 1 },
        ],
      }),
    );
    expect(failed.code).toBe(422);
    expect(
      spec((await custom.getClusterCustomObject({ ...policyApi, name: 'jsonpatch' })) as JsonObject).priority,
    ).toBe(3);
    const malformed = await failure(
      custom.patchClusterCustomObject({
        ...policyApi,
        name: 'jsonpatch',
        body: [{ op: 'frobnicate', path: '/x' }],
      }),
    );
    expect(malformed.code).toBe(400);
  });
});

describe('strategic merge patch', () => {
  it('merges lists of named objects on built-in types', async () => {
    const body = toPod({
      metadata: { name: 'smp' },
      spec: {
        containers: [
          { name: 'app', image: 'busybox' },
          { name: 'sidecar', image: 'envoy' },
        ],
      },
    });
    await core.createNamespacedPod({ namespace: 'default', body });
    const patched = await core.patchNamespacedPod(
      {
        name: 'smp',
        namespace: 'default',
        body: {
          spec: {
            containers: [
              { name: 'sidecar', image: 'envoy:2' },
              { name: 'app', $patch: 'delete' },
              { name: 'new', image: 'x' },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.containers.map(c => `${c.name}=${c.image ?? ''}`)).toEqual([
      'sidecar=envoy:2',
      'new=x',
    ]);
  });

  it('is refused for custom resources with 415, as a real API server does', async () => {
    await createPolicy(policy('smp-crd'));
    const refused = await failure(
      custom.patchClusterCustomObject(
        { ...policyApi, name: 'smp-crd', body: { spec: { priority: 2 } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(refused.code).toBe(415);
  });
});

describe('server-side apply', () => {
  const applied = (name: string, body: JsonObject): KubernetesObject =>
    toObject({ apiVersion: 'nodeqos.io/v1alpha1', kind: 'NodeQoSPolicy', metadata: { name }, ...body });

  function managers(object: KubernetesObject): string[] {
    return (object.metadata?.managedFields ?? []).map(
      entry => `${entry.manager ?? ''}:${entry.operation ?? ''}`,
    );
  }

  it('creates when absent, records managedFields and removes fields the manager stops applying', async () => {
    const first = await objects.patch(
      applied('ssa', { spec: { priority: 5, cpuBurst: { enabled: true, burstPercent: 10 } } }),
      undefined,
      undefined,
      'controller',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    expect(spec(first)).toEqual({ priority: 5, cpuBurst: { enabled: true, burstPercent: 10 } });
    expect(managers(first)).toEqual(['controller:Apply']);
    expect(first.metadata?.managedFields?.[0]?.fieldsV1).toEqual({
      'f:spec': { 'f:cpuBurst': { 'f:burstPercent': {}, 'f:enabled': {} }, 'f:priority': {} },
    });

    const second = await objects.patch(
      applied('ssa', { spec: { priority: 6 } }),
      undefined,
      undefined,
      'controller',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    expect(spec(second)).toEqual({ priority: 6 });
  });

  it('keeps a dropped field another manager also owns, and reports conflicts unless forced', async () => {
    await objects.patch(
      applied('shared', { spec: { priority: 1, cpuBurst: { enabled: true, burstPercent: 10 } } }),
      undefined,
      undefined,
      'a',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    await objects.patch(
      applied('shared', { spec: { cpuBurst: { enabled: true, burstPercent: 10 } } }),
      undefined,
      undefined,
      'b',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    const dropped = await objects.patch(
      applied('shared', { spec: { priority: 1 } }),
      undefined,
      undefined,
      'a',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    expect(spec(dropped).cpuBurst).toEqual({ enabled: true, burstPercent: 10 });

    const conflict = await failure(
      objects.patch(
        applied('shared', { spec: { priority: 2 } }),
        undefined,
        undefined,
        'b',
        undefined,
        PatchStrategy.ServerSideApply,
      ),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.status.message).toContain('conflict with "a"');
    expect((conflict.status.details as JsonObject).causes).toEqual([
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "a"', // an Apply manager: no "using <apiVersion>" (managedfields conflict.go)
        field: '.spec.priority',
      },
    ]);

    const forced = await objects.patch(
      applied('shared', { spec: { priority: 2, cpuBurst: { enabled: true, burstPercent: 10 } } }),
      undefined,
      undefined,
      'b',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(spec(forced).priority).toBe(2);
    const owners = Object.fromEntries(
      (forced.metadata?.managedFields ?? []).map((e): [string, unknown] => [
        e.manager ?? '',
        e.fieldsV1 as unknown,
      ]),
    );
    expect(owners).toEqual({
      b: { 'f:spec': { 'f:cpuBurst': { 'f:burstPercent': {}, 'f:enabled': {} }, 'f:priority': {} } },
    });
    const reclaim = await failure(
      objects.patch(
        applied('shared', { spec: { priority: 1 } }),
        undefined,
        undefined,
        'a',
        undefined,
        PatchStrategy.ServerSideApply,
      ),
    );
    expect(reclaim.status.message).toContain('conflict with "b"');
  });

  it('conflicts with fields set by an update from another manager', async () => {
    await createPolicy(policy('ssa-after-create'));
    const conflict = await failure(
      objects.patch(
        applied('ssa-after-create', { spec: { priority: 3 } }),
        undefined,
        undefined,
        'ctl',
        undefined,
        PatchStrategy.ServerSideApply,
      ),
    );
    expect(conflict.code).toBe(409);
  });

  it('requires fieldManager', async () => {
    const missing = await failure(
      objects.patch(
        applied('no-manager', { spec: { priority: 1 } }),
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.ServerSideApply,
      ),
    );
    expect(missing.code).toBe(422); // PatchOptions validation, as on kube-apiserver
  });

  it('accepts YAML bodies and merges keyed status lists on /status', async () => {
    await createPolicy(policy('ssa-status'));
    const yaml = [
      'apiVersion: nodeqos.io/v1alpha1',
      'kind: NodeQoSPolicy',
      'metadata: {name: ssa-status}',
      'status:',
      '  conditions:',
      '  - {type: Ready, status: "True", reason: Fine, message: ok, lastTransitionTime: "2024-01-01T00:00:00Z"}',
    ].join('\n');
    const first = await fetch(
      `${server.url}/apis/nodeqos.io/v1alpha1/nodeqospolicies/ssa-status/status?fieldManager=ctl`,
      {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/apply-patch+yaml' },
        body: yaml,
      },
    );
    expect(first.status).toBe(200);
    const other = (await custom.patchClusterCustomObjectStatus(
      {
        ...policyApi,
        name: 'ssa-status',
        fieldManager: 'agent',
        body: {
          apiVersion: 'nodeqos.io/v1alpha1',
          kind: 'NodeQoSPolicy',
          metadata: { name: 'ssa-status' },
          status: {
            conditions: [
              {
                type: 'Conflict',
                status: 'False',
                reason: 'None',
                message: '',
                lastTransitionTime: '2024-01-01T00:00:00Z',
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )) as JsonObject;
    const conditions = (other.status as JsonObject).conditions as JsonObject[];
    expect(conditions.map(c => c.type)).toEqual(['Ready', 'Conflict']);
    expect(spec(other).priority).toBe(1);
  });
});

describe('status patches', () => {
  it('change only status and never bump generation', async () => {
    await createPolicy(policy('status-patch'));
    const patched = (await custom.patchClusterCustomObjectStatus(
      { ...policyApi, name: 'status-patch', body: { spec: { priority: 99 }, status: { matchedNodes: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as JsonObject;
    expect(patched.status).toEqual({ matchedNodes: 3 });
    expect(spec(patched).priority).toBe(1);
    expect((patched.metadata as JsonObject).generation).toBe(1);
  });

  it('are validated against the status schema', async () => {
    const invalid = await failure(
      custom.patchClusterCustomObjectStatus(
        { ...policyApi, name: 'status-patch', body: { status: { matchedNodes: -1 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(invalid.code).toBe(422);
    expect((invalid.status.details as JsonObject).causes).toEqual([
      expect.objectContaining({ field: 'status.matchedNodes' }),
    ]);
  });
});
