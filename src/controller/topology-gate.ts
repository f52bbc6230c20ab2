// How often a node's reported CPU topology may change its plan. The topology sits in the plan status, which the
// agent writes; a flood of status writes (a confused agent, or a stolen agent token: issue 14) would otherwise
// re-plan the node on every write and move pinned pods each time. The gate adopts a newly reported topology at
// most once per interval per node; until then the node keeps being planned on the topology adopted before, and
// the controller re-plans once when the interval ends (docs/decisions/0145).
import { canonicalJson } from '../api/canonical-json.ts';
import type { Topology } from '../api/topology.ts';

/** Default --topology-replan-interval: one topology adoption per node per 30 s. */
export const defaultTopologyReplanIntervalMs = 30_000;

interface Adopted {
  readonly key: string;
  readonly topology: Topology | undefined;
  /** When it was adopted; -Infinity for the first "nothing reported yet", which charges nothing. */
  readonly at: number;
}

export interface TopologyChoice {
  /** The topology the node's plan uses now. */
  readonly topology: Topology | undefined;
  /** > 0 when a newer report waits: re-plan the node after this many milliseconds. */
  readonly waitMs: number;
}

export class TopologyGate {
  private readonly adopted = new Map<string, Adopted>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** The topology to plan `node` with, given what its plan status reports now. */
  choose(node: string, reported: Topology | undefined): TopologyChoice {
    const key = canonicalJson(reported ?? null);
    const current = this.adopted.get(node);
    const now = this.now();
    if (current?.key === key) return { topology: current.topology, waitMs: 0 };
    // The first report after "none yet" (a new plan, a controller restart) is adopted at once and charged.
    if (current === undefined || now - current.at >= this.intervalMs) {
      const first = current === undefined && reported === undefined;
      this.adopted.set(node, { key, topology: reported, at: first ? -Infinity : now });
      return { topology: reported, waitMs: 0 };
    }
    return { topology: current.topology, waitMs: current.at + this.intervalMs - now };
  }

  /** The node's plan is gone: its next plan starts from what is reported then. */
  forget(node: string): void {
    this.adopted.delete(node);
  }
}
