// One node: pick its policy, plan it, and write the plan only when the spec really changed.
import type { Logger } from 'pino';
import { apiVersion } from '../api/group.ts';
import { planForNode, type NodePlanOutcome } from '../plan/plan-for-node.ts';
import type { ClusterWriter } from '../kube/writers.ts';
import { canonicalJson } from './canonical.ts';
import type { ClusterState } from './cluster-state.ts';
import type { EventRecorder } from './events.ts';

/** unplannable: a policy selects the node but its capacity cannot be planned; the existing plan is left as is. */
export type ReconcileOutcome = 'written' | 'unchanged' | 'deleted' | 'absent' | 'unplannable';

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

/** The plan the node should have, or why it should have none. */
function desiredPlan(nodeName: string, state: ClusterState): NodePlanOutcome {
  const node = state.nodes.get(nodeName);
  if (!node) return { kind: 'unselected', reason: 'node deleted' };
  const existing = state.plans.get(nodeName);
  return planForNode({
    policies: state.policies.list().flatMap(p => (p.policy ? [p.policy] : [])),
    node,
    pods: state.podsOn(nodeName),
    topology: existing?.status?.topology,
    previous: state.written.get(nodeName) ?? existing?.spec,
  });
}

export interface ReconcileDeps {
  readonly writer: ClusterWriter;
  readonly logger: Logger;
  readonly events: EventRecorder;
}

export async function reconcileNode(
  nodeName: string,
  state: ClusterState,
  { writer, logger, events }: ReconcileDeps,
): Promise<ReconcileOutcome> {
  const existing = state.plans.get(nodeName);
  const outcome = desiredPlan(nodeName, state);
  if (outcome.kind === 'unselected') {
    state.written.delete(nodeName);
    return existing ? removePlan(nodeName, outcome.reason, writer, logger) : 'absent';
  }
  if (outcome.kind === 'unplannable') {
    // Retrying cannot help until the node object changes (which enqueues it again); the policy's
    // NodesPlannable condition carries the same message.
    logger.warn({ node: nodeName, policy: outcome.policy, reason: outcome.reason }, 'node not plannable');
    events.record(
      { kind: 'Node', apiVersion: 'v1', name: nodeName },
      'Warning',
      'NotPlannable',
      outcome.reason,
    );
    return 'unplannable';
  }
  const plan = outcome.plan;
  for (const pod of outcome.conservative) {
    events.record(
      { kind: 'Pod', apiVersion: 'v1', name: pod.name, namespace: pod.namespace },
      'Warning',
      'PlannedConservatively',
      `${apiVersion} plan for node ${nodeName}: not read in full (${pod.reason}); planned by class, never pinned`,
    );
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
