// One node: pick its policy, plan it, and write the plan only when the spec really changed.
import type { Logger } from 'pino';
import { apiVersion } from '../api/group.ts';
import type { NodeIsolationPlan, PlanSpec } from '../api/plan.ts';
import type { Topology } from '../api/topology.ts';
import { planForNode, type NodePlanOutcome } from '../plan/plan-for-node.ts';
import type { ClusterWriter } from '../kube/writers.ts';
import { canonicalJson } from '../api/canonical-json.ts';
import type { ClusterState, RejectedPlan } from './cluster-state.ts';
import type { EventRecorder } from './events.ts';
import { confirmPinnedPodsGone } from './pin-guard.ts';
import type { TopologyGate } from './topology-gate.ts';

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

/**
 * What the node's next plan builds on: the last spec we wrote or the cache holds (pins stay), and the topology
 * the gate lets it use (a newer report waits out the re-plan interval; the node is re-planned when it ends).
 */
function previousPlan(
  nodeName: string,
  state: ClusterState,
  deps: Pick<ReconcileDeps, 'topologyGate' | 'replanAfter'>,
): { previous: PlanSpec | undefined; topology: Topology | undefined } {
  const existing = state.plans.get(nodeName);
  const rejected = state.rejectedPlans.get(nodeName);
  const choice = deps.topologyGate.choose(nodeName, existing?.status?.topology ?? rejected?.topology);
  if (choice.waitMs > 0) deps.replanAfter(nodeName, choice.waitMs);
  return {
    previous: state.written.get(nodeName)?.spec ?? existing?.spec ?? rejected?.previous,
    topology: choice.topology,
  };
}

/**
 * The resourceVersion of the stored plan the next plan builds on, sent as the apply's precondition. Without it a
 * controller whose plan cache lags (a new leader whose plan watch stalled, say) would force a plan built on an
 * old version over a newer one and move pinned pods. With it the server answers 409 and the work queue retries
 * once the cache has caught up. The cache's version wins when it holds the spec we wrote: the agent's status
 * writes advance the version without changing the spec.
 */
function baseVersion(nodeName: string, state: ClusterState): string | undefined {
  const written = state.written.get(nodeName);
  const existing = state.plans.get(nodeName);
  if (!written) return existing?.metadata.resourceVersion;
  if (existing && canonicalJson(existing.spec) === canonicalJson(written.spec))
    return existing.metadata.resourceVersion;
  return written.resourceVersion;
}

/** The plan the node should have, or why it should have none. */
function desiredPlan(nodeName: string, state: ClusterState, deps: ReconcileDeps): NodePlanOutcome {
  const node = state.nodes.get(nodeName);
  if (!node) return { kind: 'unselected', reason: 'node deleted' };
  return planForNode({
    policies: state.policies.list().flatMap(p => (p.policy ? [p.policy] : [])),
    node,
    pods: state.podsOn(nodeName),
    ...previousPlan(nodeName, state, deps),
  });
}

export interface ReconcileDeps {
  readonly writer: ClusterWriter;
  readonly logger: Logger;
  readonly events: EventRecorder;
  /** Which reported topology a node's plan may use now (rate-limited adoption). */
  readonly topologyGate: TopologyGate;
  /** Reconcile the node again after `ms` (a deferred topology report). */
  readonly replanAfter: (nodeName: string, ms: number) => void;
}

/**
 * The stored plan is a version this build rejects (someone edited it into a shape it cannot read): apply ours over it.
 * Server-side apply with force takes back every field the controller owns. If the version that write produced is
 * rejected as well, what is wrong lies outside those fields (a stray field, the status), so writing again would only
 * loop: the reconcile fails instead, and the work queue retries with backoff until someone fixes the object.
 */
async function rewriteRejected(
  plan: NodeIsolationPlan,
  rejected: RejectedPlan,
  { state, writer, logger }: { state: ClusterState; writer: ClusterWriter; logger: Logger },
): Promise<ReconcileOutcome> {
  const name = plan.metadata.name;
  const resourceVersion = await writer.applyPlan(plan, rejected.resourceVersion);
  rejected.rewrittenAs = resourceVersion;
  state.written.set(name, { spec: plan.spec, resourceVersion });
  logger.info(
    { node: name, rejectedVersion: rejected.resourceVersion, resourceVersion },
    'plan rewritten over a version this build rejects',
  );
  if (resourceVersion === rejected.resourceVersion) throw stillRejected(name, resourceVersion);
  return 'written';
}

/**
 * A rejected stored plan: rewrite it once; if our own rewrite came back rejected, fail (see rewriteRejected).
 * Otherwise the rewrite is on its way back through the watch: `written` holds it, and the caller compares as usual.
 */
async function rewriteIfRejected(
  plan: NodeIsolationPlan,
  rejected: RejectedPlan,
  deps: { state: ClusterState; writer: ClusterWriter; logger: Logger },
): Promise<ReconcileOutcome | undefined> {
  if (rejected.rewrittenAs === undefined) return rewriteRejected(plan, rejected, deps);
  if (rejected.rewrittenAs === rejected.resourceVersion)
    throw stillRejected(plan.metadata.name, rejected.resourceVersion);
  return undefined;
}

function stillRejected(name: string, resourceVersion: string): Error {
  return new Error(
    `plan ${name}: version ${resourceVersion}, written by this controller, is still rejected by this build's schema; fix or delete the object`,
  );
}

/** Events for what the plan could not read in full (pods) or could not plan at all (the node). */
function recordUnplannable(
  nodeName: string,
  outcome: Extract<NodePlanOutcome, { kind: 'unplannable' }>,
  { logger, events }: ReconcileDeps,
): ReconcileOutcome {
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

function recordConservative(
  nodeName: string,
  outcome: Extract<NodePlanOutcome, { kind: 'planned' }>,
  events: EventRecorder,
): void {
  for (const pod of outcome.conservative) {
    events.record(
      { kind: 'Pod', apiVersion: 'v1', name: pod.name, namespace: pod.namespace },
      'Warning',
      'PlannedConservatively',
      `${apiVersion} plan for node ${nodeName}: not read in full (${pod.reason}); planned by class, never pinned`,
    );
  }
}

/** A reported topology that cannot be the node's: one log line and a Warning event on the plan. */
function recordTopologyRefusal(
  nodeName: string,
  outcome: Extract<NodePlanOutcome, { kind: 'planned' }>,
  { logger, events }: ReconcileDeps,
): void {
  if (outcome.topologyRefusal === undefined) return;
  logger.warn({ node: nodeName, reason: outcome.topologyRefusal }, 'reported topology refused');
  events.record(
    { kind: 'NodeIsolationPlan', apiVersion, name: nodeName },
    'Warning',
    'TopologyRefused',
    outcome.topologyRefusal,
  );
}

export async function reconcileNode(
  nodeName: string,
  state: ClusterState,
  deps: ReconcileDeps,
): Promise<ReconcileOutcome> {
  const { writer, logger, events } = deps;
  const existing = state.plans.get(nodeName);
  const rejected = state.rejectedPlans.get(nodeName);
  const outcome = desiredPlan(nodeName, state, deps);
  if (outcome.kind === 'unselected') {
    deps.topologyGate.forget(nodeName);
    state.written.delete(nodeName);
    state.rejectedPlans.delete(nodeName);
    return existing || rejected ? removePlan(nodeName, outcome.reason, writer, logger) : 'absent';
  }
  if (outcome.kind === 'unplannable') return recordUnplannable(nodeName, outcome, deps);
  const plan = outcome.plan;
  recordConservative(nodeName, outcome, events);
  if (rejected) {
    const rewritten = await rewriteIfRejected(plan, rejected, { state, writer, logger });
    if (rewritten) return rewritten;
  }
  const result = await writeIfChanged(plan, state, deps);
  // Once per plan that carries the refusal, not on every reconcile of an unchanged plan.
  if (result === 'written') recordTopologyRefusal(nodeName, outcome, deps);
  return result;
}

/** Writes the plan unless the spec we last wrote (or the cache holds) is already the same. */
async function writeIfChanged(
  plan: NodeIsolationPlan,
  state: ClusterState,
  { writer, logger }: ReconcileDeps,
): Promise<ReconcileOutcome> {
  const nodeName = plan.metadata.name;
  const existing = state.plans.get(nodeName);
  const current = state.written.get(nodeName)?.spec ?? existing?.spec;
  if (current && canonicalJson(current) === canonicalJson(plan.spec)) return 'unchanged';
  await confirmPinnedPodsGone(current, plan.spec, (namespace, name) => writer.pod(namespace, name));
  const resourceVersion = await writer.applyPlan(plan, baseVersion(nodeName, state));
  state.written.set(nodeName, { spec: plan.spec, resourceVersion });
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
