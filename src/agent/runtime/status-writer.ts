// Writes the agent's part of a NodeIsolationPlan: its /status, by merge patch.
import type { KubeTransport } from '../../kube/transport.ts';
import { plansPath } from '../../kube/sources.ts';
import type { PlanStatus } from './plan-status.ts';

export function planStatusWriter(
  http: KubeTransport,
  nodeName: string,
): (status: PlanStatus) => Promise<void> {
  return async status => {
    await http.request('PATCH', `${plansPath}/${encodeURIComponent(nodeName)}/status`, {
      body: { status },
      contentType: 'application/merge-patch+json',
    });
  };
}
