// Policy status from the current objects: which nodes each policy governs, ties, and Ready/Conflict.
import type { Condition } from '../api/meta.ts';
import type { NodeQoSPolicy } from '../api/policy.ts';
import { nodeCapacityMilli } from '../plan/plan-node.ts';
import { choosePolicy } from '../plan/select-policy.ts';
import type { CachedNode, CachedPolicy } from '../kube/transforms.ts';

type PolicyStatus = NonNullable<NodeQoSPolicy['status']>;

interface Tally {
  governs: number;
  /** Selected nodes whose capacity cannot be planned, with why: not governed. */
  unplannable: { node: string; reason: string }[];
  tiedNodes: string[];
  tiedWith: Set<string>;
}

function tally(policies: readonly CachedPolicy[], nodes: readonly CachedNode[]): Map<string, Tally> {
  const valid = policies.flatMap(p => (p.policy ? [p.policy] : []));
  const result = new Map<string, Tally>(
    policies.map(p => [p.name, { governs: 0, unplannable: [], tiedNodes: [], tiedWith: new Set() }]),
  );
  for (const node of nodes) {
    const choice = choosePolicy(valid, node.metadata.labels ?? {});
    if (!choice.winner) continue;
    const winner = result.get(choice.winner.metadata.name);
    const problem = capacityProblem(node);
    if (problem !== undefined) winner?.unplannable.push({ node: node.metadata.name, reason: problem });
    else if (winner) winner.governs++;
    if (choice.tiedWith.length > 0)
      recordTie(result, node.metadata.name, [choice.winner.metadata.name, ...choice.tiedWith]);
  }
  return result;
}

/** The same check the planner makes: a node it cannot plan is reported, not counted. */
function capacityProblem(node: CachedNode): string | undefined {
  try {
    nodeCapacityMilli(node);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function plannable(t: Tally | undefined): NewCondition {
  const nodes = t?.unplannable ?? [];
  if (nodes.length === 0)
    return condition('NodesPlannable', 'True', 'AllNodesPlannable', 'every selected node can be planned');
  const sample = nodes
    .slice(0, 3)
    .map(n => n.reason)
    .join('; ');
  return condition(
    'NodesPlannable',
    'False',
    'InvalidNodeCapacity',
    `${nodes.length} selected node(s) not planned and not governed: ${sample}`.slice(0, 4000),
  );
}

function recordTie(tallies: Map<string, Tally>, nodeName: string, group: readonly string[]): void {
  for (const name of group) {
    const t = tallies.get(name);
    if (!t) continue;
    t.tiedNodes.push(nodeName);
    for (const other of group) if (other !== name) t.tiedWith.add(other);
  }
}

type NewCondition = Omit<Condition, 'lastTransitionTime'>;

function condition(type: string, status: Condition['status'], reason: string, message: string): NewCondition {
  return { type, status, reason, message };
}

function conditionsFor(policy: CachedPolicy, t: Tally | undefined): Omit<Condition, 'lastTransitionTime'>[] {
  if (!policy.policy) {
    const message = policy.problems
      .map(p => `${p.path}: ${p.message}`)
      .join('; ')
      .slice(0, 4000);
    return [
      condition('Ready', 'False', 'InvalidSpec', message),
      condition('Conflict', 'False', 'InvalidSpec', 'not evaluated'),
      condition('NodesPlannable', 'Unknown', 'InvalidSpec', 'not evaluated'),
    ];
  }
  const governs = t?.governs ?? 0;
  const ready = condition('Ready', 'True', 'Reconciled', `governs ${governs} node(s)`);
  if (!t || t.tiedNodes.length === 0)
    return [ready, condition('Conflict', 'False', 'NoConflict', 'no equal-priority overlap'), plannable(t)];
  const others = [...t.tiedWith].sort();
  const sample = t.tiedNodes.slice(0, 3).join(', ');
  const winner = [policy.name, ...others].sort()[0] ?? policy.name;
  const message = `same priority ${policy.policy.spec.priority ?? 0} as ${others.join(', ')} on ${t.tiedNodes.length} node(s) (${sample}); ${winner} wins by name`;
  return [ready, condition('Conflict', 'True', 'EqualPriorityOverlap', message), plannable(t)];
}

/** Keeps lastTransitionTime of conditions whose status did not change. */
function withTransitionTimes(
  next: Omit<Condition, 'lastTransitionTime'>[],
  previous: readonly Condition[] | undefined,
  now: string,
): Condition[] {
  return next.map(c => {
    const before = previous?.find(p => p.type === c.type);
    return {
      ...c,
      lastTransitionTime: before?.status === c.status ? before.lastTransitionTime : now,
    };
  });
}

export function desiredPolicyStatuses(
  policies: readonly CachedPolicy[],
  nodes: readonly CachedNode[],
  now: string,
): Map<string, PolicyStatus> {
  const tallies = tally(policies, nodes);
  return new Map(
    policies.map(p => [
      p.name,
      {
        observedGeneration: p.generation,
        matchedNodes: p.policy ? (tallies.get(p.name)?.governs ?? 0) : 0,
        conditions: withTransitionTimes(
          conditionsFor(p, tallies.get(p.name)).map(c => ({ ...c, observedGeneration: p.generation })),
          p.status?.conditions,
          now,
        ),
      },
    ]),
  );
}
