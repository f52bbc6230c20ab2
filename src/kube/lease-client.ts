// coordination.k8s.io/v1 Lease reads and writes with optimistic concurrency.
import { isNotFound } from './errors.ts';
import type { KubeHttp } from './http.ts';

export interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaseClient {
  get(): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  /** Fails with 409 when lease.metadata.resourceVersion is stale. */
  replace(lease: Lease): Promise<Lease>;
}

export function kubeLeaseClient(http: KubeHttp, namespace: string, name: string): LeaseClient {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const body = (lease: Lease): object => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
  return {
    async get() {
      try {
        return await http.request<Lease>('GET', `${base}/${encodeURIComponent(name)}`, { timeoutMs: 5000 });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    create: lease => http.request<Lease>('POST', base, { body: body(lease), timeoutMs: 5000 }),
    replace: lease =>
      http.request<Lease>('PUT', `${base}/${encodeURIComponent(name)}`, {
        body: body(lease),
        timeoutMs: 5000,
      }),
  };
}
