// What a pod leaving the plan gets back: the values recorded before the agent's first write, or, when the record is
// missing or untrustworthy, what kubelet would set where that is derivable without the pod spec (each mechanism
// knows its own kubelet defaults).
import type { PodDesired } from '../mechanisms/core/desired.ts';
import { notDerivable, type Mechanism } from '../mechanisms/core/mechanism.ts';
import type { UnsupportedKnob } from '../mechanisms/core/report.ts';
import type { MechanismSession } from '../mechanisms/core/session.ts';
import { oomKnob } from './oom-score.ts';
import { podDirKey, type PodRecord } from '../restore/original-values.ts';

/** The recorded originals; without a record (the agent never wrote the pod) nothing is to be put back. */
export function recordDesired(record: PodRecord | undefined): PodDesired {
  const values = record?.values ?? {};
  const pod = new Map(Object.entries(values[podDirKey] ?? {}));
  const containers = new Map(
    Object.entries(values)
      .filter(([key]) => key !== podDirKey)
      .map(([key, values]) => [key, new Map(Object.entries(values))] as const),
  );
  return { mode: 'restore', pod, containers, unsupported: [] };
}

export interface DefaultsResult {
  readonly desired: PodDesired;
  /** Knobs kubelet sets from the pod spec (requests, limits, QoS policy): not derivable here, left as they are. */
  readonly leftAsIs: UnsupportedKnob[];
}

/**
 * kubelet defaults, from every mechanism (e.g. the parent's full cpuset; memory.min/low 0 and memory.high max on
 * v2, soft limit unlimited on v1; no CPU burst and no throttles). What depends on the pod spec is left as it is and
 * reported, oom_score_adj included.
 */
export async function kubeletDefaults(
  mechanisms: readonly Mechanism[],
  session: MechanismSession,
): Promise<DefaultsResult> {
  const pod = new Map<string, unknown>();
  const leftAsIs: UnsupportedKnob[] = [];
  for (const mechanism of mechanisms) {
    const defaults = await mechanism.kubeletDefaults(session);
    for (const [file, value] of defaults.values) pod.set(file, value);
    leftAsIs.push(...defaults.leftAsIs);
  }
  leftAsIs.push({ knob: oomKnob, reason: notDerivable });
  return { desired: { mode: 'restore', pod, containers: new Map(), unsupported: [] }, leftAsIs };
}
