// Which policy governs a node: highest priority among those whose selector matches; ties go to the
// lexicographically smallest name, and the losers are reported as conflicting.
import type { NodeQoSPolicy } from '../api/policy.ts';
import { selectorMatches } from '../api/selector.ts';

export interface PolicyChoice {
  readonly winner: NodeQoSPolicy | undefined;
  /** Policies that matched with the winner's priority and lost on name. */
  readonly tiedWith: readonly string[];
}

export function choosePolicy(
  policies: readonly NodeQoSPolicy[],
  nodeLabels: Readonly<Record<string, string>>,
): PolicyChoice {
  const matching = policies
    .filter(p => selectorMatches(p.spec.nodeSelector, nodeLabels))
    .sort(
      (a, b) =>
        (b.spec.priority ?? 0) - (a.spec.priority ?? 0) ||
        (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0),
    );
  const winner = matching[0];
  if (!winner) return { winner: undefined, tiedWith: [] };
  const priority = winner.spec.priority ?? 0;
  const tiedWith = matching
    .slice(1)
    .filter(p => (p.spec.priority ?? 0) === priority)
    .map(p => p.metadata.name);
  return { winner, tiedWith };
}
