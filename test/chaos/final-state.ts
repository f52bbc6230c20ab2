// The end state a run must converge to, read straight from the API server's store and the nodes' files: every
// node has the plan the planner computes from the final objects, its agent reports that generation applied and
// not degraded, and its cgroup files hold exactly the plan's values.
import { canonicalJson } from '../../src/api/canonical-json.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import type { JsonObject } from '../../src/devserver/index.ts';
import { transformNode, transformPlan, transformPod, transformPolicy } from '../../src/kube/transforms.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { choosePolicy } from '../../src/plan/select-policy.ts';
import type { ChaosWorld, NodeSlot } from './world.ts';
import type { Violation } from './invariants.ts';
import { kernelSharingProblems, podMismatches, tierMismatch, tierQuota } from './node-state.ts';
import { plansResource } from './plan-history.ts';
import { policiesResource } from './workload.ts';

function show(value: unknown): string {
  return value === undefined ? 'absent' : JSON.stringify(value).slice(0, 120);
}

/** The first place two JSON values differ, for a readable violation. */
export function firstDifference(a: unknown, b: unknown, path = 'spec'): string {
  if (canonicalJson(a) === canonicalJson(b)) return '';
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return `${path}: ${show(a)} != ${show(b)}`;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const diff = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (diff !== '') return diff;
  }
  return path;
}

/** What the API server holds, read once per check. */
interface Snapshot {
  readonly policies: readonly JsonObject[];
  readonly nodes: ReadonlyMap<string, JsonObject>;
  readonly pods: readonly JsonObject[];
  readonly plans: ReadonlyMap<string, JsonObject>;
}

async function snapshot(world: ChaosWorld): Promise<Snapshot> {
  const byName = (items: JsonObject[]): Map<string, JsonObject> =>
    new Map(items.map(i => [(i.metadata as { name?: string } | undefined)?.name ?? '?', i]));
  return {
    policies: await world.api.list(policiesResource),
    nodes: byName(await world.api.list('nodes')),
    pods: await world.api.list('pods'),
    plans: byName(await world.api.list(plansResource)),
  };
}

/** The plan the controller should have written for `node`, from the objects the API server holds now. */
function plannedSpec(state: Snapshot, node: string, existing: NodeIsolationPlan | undefined): unknown {
  const policies = state.policies.flatMap(raw => transformPolicy(raw)?.policy ?? []);
  const nodeObject = transformNode(state.nodes.get(node));
  if (!nodeObject) return undefined;
  const choice = choosePolicy(policies, nodeObject.metadata.labels ?? {});
  if (!choice.winner) return undefined;
  const pods = state.pods.flatMap(raw => {
    const pod = transformPod(raw);
    return pod?.spec.nodeName === node ? [pod] : [];
  });
  return planNode({
    policy: choice.winner,
    node: nodeObject,
    pods,
    topology: existing?.status?.topology,
    previous: existing?.spec,
  }).spec;
}

function statusProblem(plan: NodeIsolationPlan): string | undefined {
  const generation = plan.metadata.generation;
  const status = plan.status;
  const condition = (type: string): string | undefined =>
    status?.conditions?.find(c => c.type === type && c.observedGeneration === generation)?.status;
  if (status?.appliedGeneration !== generation)
    return `appliedGeneration ${status?.appliedGeneration} != generation ${generation}`;
  if (condition('Applied') !== 'True' || condition('Degraded') !== 'False')
    return `conditions ${JSON.stringify(status?.conditions?.map(c => [c.type, c.status, c.reason, c.message]))}`;
  return undefined;
}

async function nodeViolations(state: Snapshot, slot: NodeSlot): Promise<Violation[]> {
  const node = slot.name;
  const plan = transformPlan(state.plans.get(node));
  const want = plannedSpec(state, node, plan);
  if (!plan)
    return want === undefined
      ? []
      : [{ kind: 'plan-missing', node, message: 'no plan, but a policy selects the node' }];
  if (want === undefined)
    return [{ kind: 'plan-unexpected', node, message: 'a plan, but no policy selects the node' }];
  const out: Violation[] = [];
  const diff = firstDifference(plan.spec, want);
  if (diff !== '')
    out.push({ kind: 'plan-differs', node, message: `stored plan != planner output: ${diff}` });
  const status = statusProblem(plan);
  if (status) out.push({ kind: 'status', node, message: status });
  const tier = await tierQuota(slot.sim);
  for (const pod of plan.spec.pods) {
    const mismatches =
      typeof tier === 'string' ? [tier] : await podMismatches(slot.sim, pod, tier, slot.limits);
    for (const m of mismatches)
      out.push({
        kind: 'cgroup-mismatch',
        node,
        message: `${pod.namespace}/${pod.name} (${pod.qosClass}): ${m}`,
      });
  }
  const tierProblem = await tierMismatch(slot.sim, plan);
  if (tierProblem) out.push({ kind: 'tier', node, message: tierProblem });
  for (const problem of await kernelSharingProblems(slot.sim, plan, slot.limits))
    out.push({ kind: 'kernel-exclusive', node, message: problem });
  return out;
}

/** Everything that must hold once the system has settled; empty when it has. */
export async function settledViolations(world: ChaosWorld): Promise<Violation[]> {
  const out: Violation[] = [];
  const state = await snapshot(world);
  for (const slot of world.nodes) out.push(...(await nodeViolations(state, slot)));
  const known = new Set(world.nodes.map(n => n.name));
  for (const name of state.plans.keys()) {
    if (!known.has(name))
      out.push({ kind: 'plan-unexpected', node: name, message: 'plan for an unknown node' });
  }
  return out;
}
