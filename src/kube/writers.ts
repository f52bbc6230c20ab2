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
