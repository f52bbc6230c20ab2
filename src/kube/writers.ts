// The controller's writes: server-side apply of plans, plan deletion, policy status, events.
import type { NodeIsolationPlan } from '../api/plan.ts';
import type { NodeQoSPolicy } from '../api/policy.ts';
import { isNotFound } from './errors.ts';
import type { KubeHttp } from './http.ts';
import { plansPath, policiesPath } from './sources.ts';

export const fieldManager = 'nodeqos-controller';
export const policyLabel = 'nodeqos.io/policy';

export interface ClusterWriter {
  /**
   * Server-side apply; resolves to the resourceVersion the server stored. `basedOn`, the resourceVersion of the
   * stored plan this one was built from, makes the write conditional: a newer stored plan is a 409 Conflict.
   */
  applyPlan(plan: NodeIsolationPlan, basedOn?: string): Promise<string>;
  deletePlan(name: string): Promise<boolean>;
  /**
   * The one live read a write depends on: a pod's uid and phase on the server (undefined when it does not exist), to
   * tell a deleted pinned pod from one the pod cache has not caught up with (src/controller/pin-guard.ts).
   */
  pod(namespace: string, name: string): Promise<{ uid: string; phase: string | undefined } | undefined>;
  patchPolicyStatus(name: string, status: NonNullable<NodeQoSPolicy['status']>): Promise<void>;
}

export function kubeWriter(http: KubeHttp): ClusterWriter {
  return {
    async applyPlan(plan, basedOn) {
      const body = {
        apiVersion: plan.apiVersion,
        kind: plan.kind,
        metadata: {
          name: plan.metadata.name,
          labels: { [policyLabel]: plan.spec.policyName },
          ...(basedOn === undefined || basedOn === '' ? {} : { resourceVersion: basedOn }),
        },
        spec: plan.spec,
      };
      const stored = await http.request<{ metadata?: { resourceVersion?: string } }>(
        'PATCH',
        `${plansPath}/${encodeURIComponent(plan.metadata.name)}`,
        { query: { fieldManager, force: true }, body, contentType: 'application/apply-patch+yaml' },
      );
      return stored.metadata?.resourceVersion ?? '';
    },
    async pod(namespace, name) {
      try {
        const pod = await http.request<{ metadata?: { uid?: string }; status?: { phase?: string } }>(
          'GET',
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`,
        );
        return { uid: pod.metadata?.uid ?? '', phase: pod.status?.phase };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async deletePlan(name) {
      try {
        await http.request('DELETE', `${plansPath}/${encodeURIComponent(name)}`);
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    async patchPolicyStatus(name, status) {
      await http.request('PATCH', `${policiesPath}/${encodeURIComponent(name)}/status`, {
        body: { status },
        contentType: 'application/merge-patch+json',
      });
    },
  };
}
