// The API servers cluster-side suites run against: the embedded dev server always, and a real kube-apiserver
// (test/support/real-apiserver.ts) when Go is present or NODEQOS_REQUIRE_REAL_APISERVER=1. One suite body,
// parameterised with describe.each(apiServers), runs against each:
//
//   describe.each(apiServers)('controller ($name API server)', backend => {
//     const api = useApiServer(backend);           // registers the hooks
//     it('...', async () => { const kc = api().kubeConfig(); ... });
//   });
//
// The embedded server is started fresh for every test. The real one is started once per file (it takes
// seconds) and emptied between tests: every object the suites create is deleted, pods with grace period 0
// since no kubelet will ever confirm their termination.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startDevServer, type DevServer, type DevServerOptions } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { realApiserverPlan, startRealApiserver, type RealApiserver } from './real-apiserver.ts';

export type ApiServerKind = 'embedded' | 'real';

export interface TestApiServer {
  readonly kind: ApiServerKind;
  kubeConfig(): KubeConfig;
  /** The embedded server's store and fault hooks; undefined on the real server. */
  readonly dev: DevServer | undefined;
  readonly real: RealApiserver | undefined;
}

export interface ApiServerBackend {
  readonly name: ApiServerKind;
}

const plan = realApiserverPlan();

export const apiServers: readonly ApiServerBackend[] = plan.run
  ? [{ name: 'embedded' }, { name: 'real' }]
  : [{ name: 'embedded' }];

/** Why the real-server variants run or not (global-setup prints it once). */
export const realApiserverReason = plan.reason;

// Everything the cluster-side suites create; a real server keeps it between tests unless deleted.
const cleanup: readonly { readonly path: string; readonly namespaced: boolean }[] = [
  { path: '/apis/nodeqos.io/v1alpha1/nodeisolationplans', namespaced: false },
  { path: '/apis/nodeqos.io/v1alpha1/nodeqospolicies', namespaced: false },
  { path: '/api/v1/nodes', namespaced: false },
  { path: '/apis/coordination.k8s.io/v1/namespaces/default/leases', namespaced: true },
  { path: '/api/v1/namespaces/default/events', namespaced: true },
  { path: '/apis/events.k8s.io/v1/namespaces/default/events', namespaced: true },
];

interface Named {
  metadata: { name: string; namespace?: string; finalizers?: string[] };
}

/** Deletes every object the suites create on a real server and waits until they are gone. */
export async function emptyRealServer(kc: KubeConfig): Promise<void> {
  const http = new KubeHttp(kc);
  // Pods of every namespace (the demo uses several), each deleted at once: no kubelet confirms termination.
  const pods = await http.request<{ items: Named[] }>('GET', '/api/v1/pods');
  await Promise.all(
    pods.items.map(pod =>
      http
        .request('DELETE', `/api/v1/namespaces/${pod.metadata.namespace ?? ''}/pods/${pod.metadata.name}`, {
          body: { gracePeriodSeconds: 0 },
        })
        .catch((error: unknown) => {
          if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        }),
    ),
  );
  for (const { path } of cleanup) {
    const list = await http.request<{ items: Named[] }>('GET', path);
    for (const item of list.items) {
      if ((item.metadata.finalizers ?? []).length > 0) {
        await http.request('PATCH', `${path}/${item.metadata.name}`, {
          body: { metadata: { finalizers: null } },
          contentType: 'application/merge-patch+json',
        });
      }
    }
    await http.request('DELETE', path, { body: { gracePeriodSeconds: 0 } });
  }
  const deadline = Date.now() + 30_000;
  for (const { path } of [...cleanup, { path: '/api/v1/pods' }]) {
    for (;;) {
      const list = await http.request<{ items: Named[] }>('GET', path);
      if (list.items.length === 0) break;
      if (Date.now() > deadline)
        throw new Error(`${path} still holds ${list.items.map(i => i.metadata.name).join(', ')}`);
      await new Promise(resolve => setTimeout(resolve, 100));
    }
  }
}

/** Starts the real server once per file; shared by useApiServer and suites that only need the real one. */
export function useRealApiserver(): () => RealApiserver {
  let real: RealApiserver | undefined;
  beforeAll(async () => {
    real = await startRealApiserver();
  }, 240_000);
  afterAll(async () => {
    await real?.stop();
  }, 60_000);
  return () => {
    if (real === undefined) throw new Error('the real kube-apiserver is not running');
    return real;
  };
}

/** Registers the hooks that give each test a clean API server of the backend's kind. */
export function useApiServer(
  backend: ApiServerBackend,
  devOptions: DevServerOptions = {},
): () => TestApiServer {
  let current: TestApiServer | undefined;
  if (backend.name === 'embedded') {
    beforeEach(async () => {
      const dev = await startDevServer(devOptions);
      current = { kind: 'embedded', kubeConfig: () => dev.kubeConfig(), dev, real: undefined };
    });
    afterEach(async () => {
      await current?.dev?.close();
      current = undefined;
    });
  } else {
    const real = useRealApiserver();
    beforeEach(async () => {
      const server = real();
      await emptyRealServer(server.kubeConfig());
      current = { kind: 'real', kubeConfig: () => server.kubeConfig(), dev: undefined, real: server };
    }, 60_000);
  }
  return () => {
    if (current === undefined) throw new Error('no API server: call useApiServer() inside describe()');
    return current;
  };
}
