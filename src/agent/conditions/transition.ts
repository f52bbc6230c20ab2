// Node conditions the agent owns, and kubelet's pressure transition period (seed 003): a condition turns True at the
// first sample that shows the pressure and back to False only when no sample has shown it for the period, so it
// does not flap with every sample around the threshold. Pure: the caller passes the clock.

export const agentConditionTypes = ['NodeQoSApplied', 'BEMemoryPressure', 'BECPUStarved'] as const;
export type AgentConditionType = (typeof agentConditionTypes)[number];

export interface NodeCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly lastHeartbeatTime: string;
}

export type DesiredCondition = Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

/** kubelet's nodeConditionsLastObservedAt for one pressure. */
export class PressureObservation {
  #lastObservedAt: number | undefined;

  observe(pressured: boolean, now: number): void {
    if (pressured) this.#lastObservedAt = now;
  }

  /** True while the pressure was seen within the transition period (period 0: only at the moment it is seen). */
  active(now: number, transitionMs: number): boolean {
    return this.#lastObservedAt !== undefined && now - this.#lastObservedAt <= transitionMs;
  }

  get lastObservedAt(): number | undefined {
    return this.#lastObservedAt;
  }
}

export interface ConditionUpdate {
  readonly conditions: NodeCondition[];
  /** A status, reason or message differs from what the node holds: worth a patch. */
  readonly changed: boolean;
}

/**
 * The desired conditions with their times: lastTransitionTime is kept while the status is unchanged (also across an
 * agent restart, as it is read back from the node), and set to now when the status moves.
 */
export function nextConditions(
  current: readonly NodeCondition[],
  desired: readonly DesiredCondition[],
  now: string,
): ConditionUpdate {
  let changed = false;
  const conditions = desired.map(want => {
    const have = current.find(c => c.type === want.type);
    const kept = have?.status === want.status ? have : undefined;
    if (kept?.reason !== want.reason || kept.message !== want.message) changed = true;
    const lastTransitionTime = kept?.lastTransitionTime ?? now;
    return { ...want, lastTransitionTime, lastHeartbeatTime: now };
  });
  return { conditions, changed };
}
