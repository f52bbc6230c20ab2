// A policy with every default filled in: the only form the rest of the planner reads.
import {
  burstDefaults,
  classDefaults,
  evictionDefaults,
  suppressDefaults,
  type ClassDefaults,
} from '../api/defaults.ts';
import { qosClasses, type QoSClass } from '../api/group.ts';
import type { ClassSpec, NodeQoSPolicy, PolicySpec } from '../api/policy.ts';
import type { PlanEviction } from '../api/plan.ts';
import { bandwidthToBits, memoryToBytes } from '../api/quantity.ts';

/** The class table row with the policy's values in, fixed shares as null when none, bandwidths in bits/s. */
export interface ResolvedClass extends Omit<ClassDefaults, 'fixedShares' | 'netRate' | 'netCeil'> {
  readonly qosClass: QoSClass;
  /** Fields the policy set itself (the rest are defaults): only their consequences are worth a warning. */
  readonly explicit: ReadonlySet<ExplicitField>;
  readonly fixedShares: number | null;
  readonly netRateBits: number | null;
  readonly netCeilBits: number | null;
}

export type ExplicitField = 'cpu.sharesPerCPU' | 'memory.minRatio' | 'memory.lowRatio' | 'memory.highRatio';

export interface ResolvedSuppress {
  readonly enabled: boolean;
  readonly curve: readonly { pressure: number; ratio: number }[];
  readonly interpolation: 'linear' | 'step';
  readonly pressureSource: 'utilization' | 'psi';
  readonly cfsPeriodUs: number;
  readonly floorMilliCPU: number;
  readonly intervalMs: number;
  readonly maxStepUpRatio: number;
  readonly beIdle: boolean;
}

export interface ResolvedPolicy {
  readonly name: string;
  readonly generation: number | undefined;
  readonly classes: Readonly<Record<QoSClass, ResolvedClass>>;
  readonly suppress: ResolvedSuppress;
  readonly burst: { readonly enabled: boolean; readonly burstPercent: number };
  readonly systemReserved: PolicySpec['systemReserved'];
  /** Exactly the plan's eviction block: nothing about it depends on the node. */
  readonly eviction: PlanEviction;
}

function optionalBits(text: string | undefined): number | null {
  return text === undefined ? null : bandwidthToBits(text);
}

/** The entries of an object whose value is set, so spreading it over defaults keeps the defaults. */
function definedOnly<T extends object>(value: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<{
    [K in keyof T]: Exclude<T[K], undefined>;
  }>;
}

function explicitFields(
  cpu: NonNullable<ClassSpec['cpu']>,
  memory: NonNullable<ClassSpec['memory']>,
): Set<ExplicitField> {
  const set: [ExplicitField, unknown][] = [
    ['cpu.sharesPerCPU', cpu.sharesPerCPU],
    ['memory.minRatio', memory.minRatio],
    ['memory.lowRatio', memory.lowRatio],
    ['memory.highRatio', memory.highRatio],
  ];
  return new Set(set.filter(([, value]) => value !== undefined).map(([field]) => field));
}

function resolveClass(qosClass: QoSClass, spec: PolicySpec): ResolvedClass {
  const d = classDefaults[qosClass];
  const { cpu = {}, memory = {}, blkio = {}, net = {}, oomScoreAdj } = spec.classes?.[qosClass] ?? {};
  const merged = {
    ...d,
    ...definedOnly({
      sharesPerCPU: cpu.sharesPerCPU,
      cpuset: cpu.cpuset,
      minRatio: memory.minRatio,
      lowRatio: memory.lowRatio,
      highRatio: memory.highRatio,
      oomScoreAdj,
      blkioWeight: blkio.weight,
      blkioThrottle: blkio.throttle,
      netClassid: net.classid,
      netPriority: net.priority,
      netRate: net.rate,
      netCeil: net.ceil,
    }),
  };
  // A policy that sets sharesPerCPU for a class with fixed default shares (BE) means weights by request.
  const fixedShares = cpu.shares ?? (cpu.sharesPerCPU === undefined ? (d.fixedShares ?? null) : null);
  return {
    qosClass,
    explicit: explicitFields(cpu, memory),
    sharesPerCPU: merged.sharesPerCPU,
    fixedShares,
    cpuset: merged.cpuset,
    minRatio: merged.minRatio,
    lowRatio: merged.lowRatio,
    highRatio: merged.highRatio,
    oomScoreAdj: merged.oomScoreAdj,
    blkioWeight: merged.blkioWeight,
    blkioThrottle: merged.blkioThrottle,
    netClassid: merged.netClassid.toLowerCase(),
    netPriority: merged.netPriority,
    netRateBits: optionalBits(merged.netRate),
    netCeilBits: optionalBits(merged.netCeil),
  };
}

export function resolvePolicy(policy: NodeQoSPolicy): ResolvedPolicy {
  const spec = policy.spec;
  return {
    name: policy.metadata.name,
    generation: policy.metadata.generation,
    classes: Object.fromEntries(qosClasses.map(c => [c, resolveClass(c, spec)])) as Record<
      QoSClass,
      ResolvedClass
    >,
    suppress: { ...suppressDefaults, ...definedOnly(spec.cpuSuppress ?? {}) },
    burst: { ...burstDefaults, ...definedOnly(spec.cpuBurst ?? {}) },
    systemReserved: spec.systemReserved,
    eviction: resolveEviction(spec.eviction ?? {}),
  };
}

function resolveEviction(spec: NonNullable<PolicySpec['eviction']>): PlanEviction {
  const d = evictionDefaults;
  const memory = { ...d.memory, ...definedOnly(spec.memory ?? {}) };
  const threshold = memory.thresholdPercent;
  return {
    priorityThreshold: spec.priorityThreshold ?? d.priorityThreshold,
    conditionTransitionSeconds: spec.conditionTransitionSeconds ?? d.conditionTransitionSeconds,
    taint: spec.taint ?? d.taint,
    memory: {
      enabled: memory.enabled,
      thresholdPercent: threshold,
      lowerPercent: spec.memory?.lowerPercent ?? Math.max(0, threshold - d.memory.lowerPercentBelowThreshold),
      minReclaimBytes: memoryToBytes(memory.minReclaim),
      coolDownSeconds: memory.coolDownSeconds,
      intervalSeconds: memory.intervalSeconds,
    },
    cpu: { ...d.cpu, ...definedOnly(spec.cpu ?? {}) },
  };
}
