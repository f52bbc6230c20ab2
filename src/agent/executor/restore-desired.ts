// What a pod leaving the plan gets back: the values recorded before the agent's first write, or, when the record is
// missing or untrustworthy, what kubelet would set where that is derivable without the pod spec.
import type { Knobs } from './knobs.ts';
import type { PodDesired } from './pod-desired.ts';
import type { UnsupportedKnob } from './report.ts';
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

const notDerivable = 'no original recorded and kubelet derives it from the pod spec: left as is';

/**
 * kubelet defaults: the parent's full cpuset; memory.min/low 0 and memory.high max (v2), soft limit unlimited (v1);
 * no CPU burst and no throttles (kubelet sets neither). shares, quota, memory limit, blkio weight and
 * oom_score_adj depend on the pod spec and are left as they are, and reported.
 */
export function kubeletDefaults(knobs: Knobs, parentCpus: string | undefined): DefaultsResult {
  const pod = new Map<string, unknown>();
  if (parentCpus !== undefined && parentCpus !== '') pod.set(knobs.cpus.file, parentCpus);
  pod.set(knobs.burst.file, 0);
  const leftAsIs: UnsupportedKnob[] = [];
  if (knobs.version === 'v1') {
    pod.set(knobs.memorySoftLimit.file, null);
    for (const { knob } of knobs.throttles) pod.set(knob.file, {});
    // kubelet never tags pods: 0 (untagged) is what a fresh cgroup holds.
    if (knobs.netClassid) pod.set(knobs.netClassid.file, 0);
    for (const knob of [knobs.shares, knobs.quota, knobs.period, knobs.memoryLimit])
      leftAsIs.push({ knob: knob.file, reason: notDerivable });
    leftAsIs.push({ knob: 'blkio.weight', reason: notDerivable });
  } else {
    pod.set(knobs.memoryMin.file, 0);
    pod.set(knobs.memoryLow.file, 0);
    pod.set(knobs.memoryHigh.file, null);
    pod.set(knobs.ioMax.file, {});
    for (const knob of [knobs.weight, knobs.cpuMax, knobs.memoryMax, knobs.ioWeight])
      leftAsIs.push({ knob: knob.file, reason: notDerivable });
  }
  leftAsIs.push({ knob: oomKnob, reason: notDerivable });
  return { desired: { mode: 'restore', pod, containers: new Map(), unsupported: [] }, leftAsIs };
}
