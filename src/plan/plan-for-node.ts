// One node's plan from everything the cluster holds: which policy governs it (ties warned about, never refused),
// the plan, or why there is none. The controller and `nodeqos plan` both call this, so the offline preview is
// what the cluster would do.
import type { Node, Pod } from '../api/inputs.ts';
import type { NodeIsolationPlan, PlanSpec } from '../api/plan.ts';
import type { NodeQoSPolicy } from '../api/policy.ts';
import type { Topology } from '../api/topology.ts';
import { maxWarnings, NodeCapacityError, planNodeWithNotes, type ConservativePod } from './plan-node.ts';
import { choosePolicy } from './select-policy.ts';

export interface NodePlanInput {
  readonly policies: readonly NodeQoSPolicy[];
  readonly node: Node;
  readonly pods: readonly Pod[];
  readonly topology?: Topology | undefined;
  readonly previous?: PlanSpec | undefined;
  readonly pressure?: number | undefined;
}

export type NodePlanOutcome =
  | {
      readonly kind: 'planned';
      readonly plan: NodeIsolationPlan;
      readonly conservative: ConservativePod[];
      /** Why the reported topology was refused (the plan then uses CPUs 0..n-1); a plan warning says the same. */
      readonly topologyRefusal: string | undefined;
    }
  /** No policy selects the node: it should have no plan. */
  | { readonly kind: 'unselected'; readonly reason: string }
  /** A policy selects the node but its capacity cannot be planned: its policy reports it, the node keeps no new plan. */
  | { readonly kind: 'unplannable'; readonly policy: string; readonly reason: string };

export function tieWarning(winner: NodeQoSPolicy, tiedWith: readonly string[]): { message: string } {
  return {
    message: `policies ${tiedWith.join(', ')} also match at priority ${winner.spec.priority ?? 0}; ${winner.metadata.name} wins by name`,
  };
}

export function planForNode(input: NodePlanInput): NodePlanOutcome {
  const choice = choosePolicy(input.policies, input.node.metadata.labels ?? {});
  if (!choice.winner) return { kind: 'unselected', reason: 'no policy selects the node' };
  try {
    const { plan, conservative, topologyRefusal } = planNodeWithNotes({
      policy: choice.winner,
      node: input.node,
      pods: input.pods,
      topology: input.topology,
      previous: input.previous,
      pressure: input.pressure,
    });
    if (choice.tiedWith.length > 0)
      plan.spec.warnings = [tieWarning(choice.winner, choice.tiedWith), ...plan.spec.warnings].slice(
        0,
        maxWarnings,
      );
    return { kind: 'planned', plan, conservative, topologyRefusal };
  } catch (error) {
    if (!(error instanceof NodeCapacityError)) throw error;
    return { kind: 'unplannable', policy: choice.winner.metadata.name, reason: error.message };
  }
}
