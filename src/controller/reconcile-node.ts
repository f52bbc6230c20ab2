// One node: pick its policy, plan it, and write the plan only when the spec really changed.
import type { Logger } from 'pino';
import type { NodeIsolationPlan } from '../api/plan.ts';
import type { NodeQoSPolicy } from '../api/policy.ts';
import { planNode } from '../plan/plan-node.ts';
import { choosePolicy } from '../plan/select-policy.ts';
import type { ClusterWriter } from '../kube/writers.ts';
import { canonicalJson } from '../api/canonical-json.ts';
import type { ClusterState } from './cluster-state.ts';

export type ReconcileOutcome = 'written' | 'unchanged' | 'deleted' | 'absent';

async function removePlan(
  nodeName: string,
  reason: string,
  writer: ClusterWriter,
  logger: Logger,
): Promise<ReconcileOutcome> {
  await writer.deletePlan(nodeName);
  logger.info({ node: nodeName, reason }, 'plan deleted');
  return 'deleted';
}

function tieWarning(winner: NodeQoSPolicy, tiedWith: readonly string[]): { message: string } {
  return {
    message: `policies ${tiedWith.join(', ')} also match at priority ${winner.spec.priority ?? 0}; ${winner.metadata.name} wins by name`,
  };
}

/** The plan the node should have, or why it should have none. */
function desiredPlan(nodeName: string, state: ClusterState): NodeIsolationPlan | string {
  const node = state.nodes.get(nodeName);
  if (!node) return 'node deleted';
  const existing = state.plans.get(nodeName);
  const policies = state.policies.list().flatMap(p => (p.policy ? [p.policy] : []));
  const choice = choosePolicy(policies, node.metadata.labels ?? {});
  if (!choice.winner) return 'no policy selects the node';
  const plan = planNode({
    policy: choice.winner,
    node,
    pods: state.podsOn(nodeName),
    topology: existing?.status?.topology,
    previous: state.written.get(nodeName) ?? existing?.spec,
  });
  if (choice.tiedWith.length > 0) plan.spec.warnings.unshift(tieWarning(choice.winner, choice.tiedWith));
  return plan;
}

export async function reconcileNode(
  nodeName: string,
  state: ClusterState,
  writer: ClusterWriter,
  logger: Logger,
): Promise<ReconcileOutcome> {
  const existing = state.plans.get(nodeName);
  const plan = desiredPlan(nodeName, state);
  if (typeof plan === 'string') {
    state.written.delete(nodeName);
    return existing ? removePlan(nodeName, plan, writer, logger) : 'absent';
  }
  const current = state.written.get(nodeName) ?? existing?.spec;
  if (current && canonicalJson(current) === canonicalJson(plan.spec)) return 'unchanged';
  await writer.applyPlan(plan);
  state.written.set(nodeName, plan.spec);
  logger.info(
    {
      node: nodeName,
      policy: plan.spec.policyName,
      pods: plan.spec.pods.length,
      warnings: plan.spec.warnings.length,
    },
    existing ? 'plan updated' : 'plan created',
  );
  return 'written';
}
