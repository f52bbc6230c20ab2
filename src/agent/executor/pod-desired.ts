// What a pod's cgroup files should hold: from its plan entry (apply) or from the original-values record (restore).
// Values are keyed by file name; pod-level only, except container values on restore.
import type { PlanPod } from '../../api/plan.ts';
import { resolveDevice, type BlockDevice } from '../discovery/block-devices.ts';
import type { CpuMax, DeviceRates, IoLimits, IoMax } from './codecs.ts';
import { blkioWeightToIoWeight, sharesToWeight } from './conversions.ts';
import type { Knobs, V1Knobs, V2Knobs } from './knobs.ts';
import { clampToParent } from './leveled.ts';
import type { UnsupportedKnob } from './report.ts';

export interface PodDesired {
  readonly mode: 'apply' | 'restore';
  readonly pod: ReadonlyMap<string, unknown>;
  /** Restore only: original values of container directories, by container name then file. */
  readonly containers: ReadonlyMap<string, ReadonlyMap<string, unknown>>;
  readonly unsupported: readonly UnsupportedKnob[];
  /** Apply only: oom_score_adj for every process of the pod. */
  readonly oomScoreAdj?: number | undefined;
}

export interface PlanFacts {
  readonly knobs: Knobs;
  /** The blkio weight file present in the pod's blkio/io directory, if any. */
  readonly weightFile: string | undefined;
  readonly devices: readonly BlockDevice[];
  /** The BE tier quota in force (null when unlimited); BE-class pods get at most this. */
  readonly beTier: CpuMax | null;
}

/**
 * A BE-class pod's effective quota under the tier quota: its own limit capped at the tier (no division among pods,
 * see docs/agent.md). A BestEffort pod without a limit stays unlimited: it sits under the tier directory already.
 */
export function effectiveQuota(pod: PlanPod, beTier: CpuMax | null): CpuMax {
  const own = { quotaUs: pod.cpu.cfsQuotaUs, periodUs: pod.cpu.cfsPeriodUs };
  if (pod.qosClass !== 'BE' || beTier === null) return own;
  if (own.quotaUs === -1) {
    return pod.kubeQoS === 'BestEffort'
      ? own
      : {
          quotaUs: Math.max(1000, Math.floor((beTier.quotaUs * own.periodUs) / beTier.periodUs)),
          periodUs: own.periodUs,
        };
  }
  return clampToParent(own, beTier);
}

interface ResolvedThrottle {
  readonly rates: Record<'readBps' | 'writeBps' | 'readIops' | 'writeIops', Record<string, number>>;
  readonly unresolved: UnsupportedKnob[];
}

const throttleKeys = ['readBps', 'writeBps', 'readIops', 'writeIops'] as const;

function addRates(
  rates: ResolvedThrottle['rates'],
  device: string,
  rule: PlanPod['blkio']['throttle'][number],
): void {
  for (const key of throttleKeys) {
    const rate = rule[key] ?? 0;
    if (rate > 0) rates[key][device] = rate;
  }
}

/** Rules apply in order; a later rule's non-zero rates override earlier ones for the same device. */
function resolveThrottles(pod: PlanPod, devices: readonly BlockDevice[], knobName: string): ResolvedThrottle {
  const rates: ResolvedThrottle['rates'] = { readBps: {}, writeBps: {}, readIops: {}, writeIops: {} };
  const unresolved: UnsupportedKnob[] = [];
  for (const rule of pod.blkio.throttle) {
    const resolved = resolveDevice(rule.device, devices);
    if (!resolved.ok) {
      unresolved.push({ knob: knobName, reason: resolved.reason });
      continue;
    }
    for (const device of resolved.majMins) addRates(rates, device, rule);
  }
  return { rates, unresolved };
}

function v1Desired(pod: PlanPod, knobs: V1Knobs, facts: PlanFacts): PodDesired {
  const quota = effectiveQuota(pod, facts.beTier);
  const values = new Map<string, unknown>([
    [knobs.shares.file, pod.cpu.shares],
    [knobs.quota.file, quota.quotaUs],
    [knobs.period.file, quota.periodUs],
    [
      knobs.burst.file,
      quota.quotaUs === -1 ? pod.cpu.cfsBurstUs : Math.min(pod.cpu.cfsBurstUs, quota.quotaUs),
    ],
    [knobs.cpus.file, pod.cpu.cpuset],
    [knobs.memoryLimit.file, pod.memory.maxBytes],
    // memory.low's nearest v1 knob: reclaim prefers groups above their soft limit; "no protection" is unlimited.
    [
      knobs.memorySoftLimit.file,
      pod.memory.lowBytes === null || pod.memory.lowBytes === 0 ? null : pod.memory.lowBytes,
    ],
  ]);
  const unsupported: UnsupportedKnob[] = [];
  if ((pod.memory.minBytes ?? 0) > 0)
    unsupported.push({ knob: 'memory.min', reason: 'cgroup v1 has no memory.min; not enforced' });
  if (pod.memory.highBytes !== null)
    unsupported.push({ knob: 'memory.high', reason: 'cgroup v1 has no memory.high; not enforced' });
  if (facts.weightFile === undefined)
    unsupported.push({
      knob: 'blkio.weight',
      reason: 'neither blkio.weight nor blkio.bfq.weight exists (no CFQ/BFQ)',
    });
  else values.set(facts.weightFile, pod.blkio.weight);
  const throttle = resolveThrottles(pod, facts.devices, 'blkio.throttle');
  unsupported.push(...throttle.unresolved);
  for (const { key, knob } of knobs.throttles)
    values.set(knob.file, throttle.rates[key] satisfies DeviceRates);
  if (knobs.netClassid) values.set(knobs.netClassid.file, Number.parseInt(pod.net.classid.slice(2), 16));
  return { mode: 'apply', pod: values, containers: new Map(), unsupported, oomScoreAdj: pod.oomScoreAdj };
}

function ioMaxOf(rates: ResolvedThrottle['rates']): IoMax {
  const devices = new Set([
    ...Object.keys(rates.readBps),
    ...Object.keys(rates.writeBps),
    ...Object.keys(rates.readIops),
    ...Object.keys(rates.writeIops),
  ]);
  const ioMax: Record<string, IoLimits> = {};
  for (const device of devices) {
    ioMax[device] = {
      rbps: rates.readBps[device] ?? null,
      wbps: rates.writeBps[device] ?? null,
      riops: rates.readIops[device] ?? null,
      wiops: rates.writeIops[device] ?? null,
    };
  }
  return ioMax;
}

function v2Desired(pod: PlanPod, knobs: V2Knobs, facts: PlanFacts): PodDesired {
  const quota = effectiveQuota(pod, facts.beTier);
  const values = new Map<string, unknown>([
    [knobs.weight.file, sharesToWeight(pod.cpu.shares)],
    [knobs.cpuMax.file, quota],
    [
      knobs.burst.file,
      quota.quotaUs === -1 ? pod.cpu.cfsBurstUs : Math.min(pod.cpu.cfsBurstUs, quota.quotaUs),
    ],
    [knobs.cpus.file, pod.cpu.cpuset],
    [knobs.memoryMin.file, pod.memory.minBytes ?? 0],
    [knobs.memoryLow.file, pod.memory.lowBytes ?? 0],
    [knobs.memoryHigh.file, pod.memory.highBytes],
    [knobs.memoryMax.file, pod.memory.maxBytes],
  ]);
  const unsupported: UnsupportedKnob[] = [];
  if (facts.weightFile === knobs.bfqWeight.file) values.set(knobs.bfqWeight.file, pod.blkio.weight);
  else if (facts.weightFile === knobs.ioWeight.file)
    values.set(knobs.ioWeight.file, blkioWeightToIoWeight(pod.blkio.weight));
  else
    unsupported.push({
      knob: 'io.weight',
      reason: 'neither io.bfq.weight nor io.weight exists (io controller off or no weight-based policy)',
    });
  const throttle = resolveThrottles(pod, facts.devices, 'io.max');
  unsupported.push(...throttle.unresolved);
  values.set(knobs.ioMax.file, ioMaxOf(throttle.rates));
  return { mode: 'apply', pod: values, containers: new Map(), unsupported, oomScoreAdj: pod.oomScoreAdj };
}

export function planDesired(pod: PlanPod, facts: PlanFacts): PodDesired {
  return facts.knobs.version === 'v1'
    ? v1Desired(pod, facts.knobs, facts)
    : v2Desired(pod, facts.knobs, facts);
}
