// What kubectl needs from the dev server, checked without Go (the conformance suite compares the same with a
// real kube-apiserver): O(page) lists, Table responses with the CRDs' printer columns, OpenAPI v2/v3.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { RawClient } from '../support/raw-client.ts';

let server: DevServer;
let client: RawClient;
const policies = '/apis/nodeqos.io/v1alpha1/nodeqospolicies';
const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

beforeEach(async () => {
  server = await startDevServer();
  client = new RawClient(server.kubeConfig());
});

afterEach(async () => {
  await server.close();
});

describe('paged lists', () => {
  it('walk the namespace in name order; remainingItemCount only without selectors', async () => {
    for (const ns of ['a', 'b']) {
      for (const name of ['p3', 'p1', 'p2']) {
        server.store.create('pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: ns, labels: { x: name } },
          spec: {},
        });
      }
    }
    const first = (await client.request('GET', '/api/v1/namespaces/b/pods?limit=2')).json as {
      items: { metadata: { name: string } }[];
      metadata: { continue: string; remainingItemCount: number };
    };
    expect(first.items.map(i => i.metadata.name)).toEqual(['p1', 'p2']);
    expect(first.metadata.remainingItemCount).toBe(1);
    const second = (
      await client.request('GET', `/api/v1/namespaces/b/pods?limit=2&continue=${first.metadata.continue}`)
    ).json as { items: { metadata: { name: string } }[]; metadata: Record<string, unknown> };
    expect(second.items.map(i => i.metadata.name)).toEqual(['p3']);
    expect(second.metadata.continue).toBeUndefined();
    const selected = (await client.request('GET', '/api/v1/pods?limit=1&labelSelector=x%20in%20(p1,p2)'))
      .json as {
      items: { metadata: { namespace: string; name: string } }[];
      metadata: Record<string, unknown>;
    };
    expect(selected.items.map(i => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['a/p1']);
    expect(selected.metadata.continue).toEqual(expect.any(String));
    expect(selected.metadata.remainingItemCount).toBeUndefined();
  });
});

describe('Table responses', () => {
  it("use the CRD's printer columns and compute each cell from its JSONPath", async () => {
    await client.request('POST', policies, {
      body: {
        apiVersion: 'nodeqos.io/v1alpha1',
        kind: 'NodeQoSPolicy',
        metadata: { name: 'p' },
        spec: { priority: 4 },
      },
    });
    await client.request('PATCH', `${policies}/p/status`, {
      body: {
        status: {
          matchedNodes: 2,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'R',
              message: 'ok',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      },
      contentType: 'application/merge-patch+json',
    });
    const table = (await client.request('GET', policies, { headers: { accept: tableAccept } })).json as {
      kind: string;
      columnDefinitions: { name: string; priority: number }[];
      rows: { cells: unknown[]; object: { kind: string } }[];
    };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map(c => c.name)).toEqual([
      'Name',
      'Priority',
      'Matched',
      'Ready',
      'Status',
      'Age',
    ]);
    expect(table.columnDefinitions.find(c => c.name === 'Status')?.priority).toBe(1);
    expect(table.rows[0]?.cells.slice(0, 5)).toEqual(['p', 4, 2, 'True', 'ok']);
    expect(table.rows[0]?.cells[5]).toMatch(/^\d+s$/);
    expect(table.rows[0]?.object.kind).toBe('PartialObjectMetadata');
  });

  it('answers 406 when only an unknown Table version is acceptable', async () => {
    const response = await client.request('GET', policies, {
      headers: { accept: 'application/json;as=Table;v=v2;g=meta.k8s.io' },
    });
    expect(response.status).toBe(406);
  });
});

describe('OpenAPI', () => {
  it('v3 lists every group-version and publishes fieldValidation on PATCH (what kubectl apply checks)', async () => {
    const root = (await client.request('GET', '/openapi/v3')).json as {
      paths: Record<string, { serverRelativeURL: string }>;
    };
    expect(Object.keys(root.paths)).toEqual(
      expect.arrayContaining([
        'api/v1',
        'apis/coordination.k8s.io/v1',
        'apis/events.k8s.io/v1',
        'apis/nodeqos.io/v1alpha1',
      ]),
    );
    const url = root.paths['apis/nodeqos.io/v1alpha1']?.serverRelativeURL ?? '';
    expect(url).toMatch(/^\/openapi\/v3\/apis\/nodeqos.io\/v1alpha1\?hash=[0-9A-F]{128}$/);
    const doc = (await client.request('GET', url)).json as {
      paths: Record<
        string,
        { patch?: { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': unknown } }
      >;
      components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }> };
    };
    const patch = doc.paths['/apis/nodeqos.io/v1alpha1/nodeqospolicies/{name}']?.patch;
    expect(patch?.parameters.map(p => p.name)).toContain('fieldValidation');
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({
      group: 'nodeqos.io',
      version: 'v1alpha1',
      kind: 'NodeQoSPolicy',
    });
    expect(
      doc.components.schemas['io.nodeqos.v1alpha1.NodeQoSPolicy']?.['x-kubernetes-group-version-kind'],
    ).toEqual([{ group: 'nodeqos.io', kind: 'NodeQoSPolicy', version: 'v1alpha1' }]);
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
  });

  it('v2 has the CRD and core definitions with #/definitions references', async () => {
    const doc = (await client.request('GET', '/openapi/v2')).json as {
      swagger: string;
      definitions: Record<string, unknown>;
    };
    expect(doc.swagger).toBe('2.0');
    expect(Object.keys(doc.definitions)).toEqual(
      expect.arrayContaining([
        'io.nodeqos.v1alpha1.NodeIsolationPlan',
        'io.k8s.api.core.v1.Pod',
        'io.k8s.api.coordination.v1.Lease',
      ]),
    );
    expect(JSON.stringify(doc.definitions)).not.toContain('#/components/schemas/');
  });
});
