// CRD validation ratcheting: unchanged invalid fields do not block an update (Kubernetes 1.30+).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { policiesPath } from '../../src/kube/sources.ts';

let server: DevServer;
let http: KubeHttp;

beforeEach(async () => {
  server = await startDevServer();
  http = new KubeHttp(server.kubeConfig());
  server.store.create('nodeqospolicies.nodeqos.io', {
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeQoSPolicy',
    metadata: { name: 'legacy' },
    spec: { priority: 1, classes: { LSR: { oomScoreAdj: 5000 } } },
  });
});

afterEach(async () => {
  await server.close();
});

describe('validation ratcheting', () => {
  it('lets a status write and an edit of another field through while the stored invalid value is unchanged', async () => {
    await http.request('PATCH', `${policiesPath}/legacy/status`, {
      body: { status: { observedGeneration: 1, matchedNodes: 0 } },
      contentType: 'application/merge-patch+json',
    });
    await http.request('PATCH', `${policiesPath}/legacy`, {
      body: { spec: { priority: 2 } },
      contentType: 'application/merge-patch+json',
    });
    const stored = await http.request<{ spec: { priority: number }; status: { matchedNodes: number } }>(
      'GET',
      `${policiesPath}/legacy`,
    );
    expect(stored.spec.priority).toBe(2);
    expect(stored.status.matchedNodes).toBe(0);
  });

  it('still rejects changing the invalid field to another invalid value', async () => {
    await expect(
      http.request('PATCH', `${policiesPath}/legacy`, {
        body: { spec: { classes: { LSR: { oomScoreAdj: 6000 } } } },
        contentType: 'application/merge-patch+json',
      }),
    ).rejects.toThrow(/HTTP 422.*oomScoreAdj/);
  });
});
