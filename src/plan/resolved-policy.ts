// A policy with every default filled in: the only form the rest of the planner reads.
import { burstDefaults, classDefaults, suppressDefaults } from '../api/defaults.ts';
import { qosClasses, type CpusetPolicy, type QoSClass } from '../api/group.ts';
import type { NodeQoSPolicy, PolicySpec } from '../api/policy.ts';
import { bandwidthToBits } from '../api/quantity.ts';

export interface ResolvedClass {
  readonly sharesPerCPU: number;
  readonly fixedShares: number | null;
  readonly cpuset: CpusetPolicy;
  readonly minRatio: number;
  readonly lowRatio: number;
  readonly highRatio: number;
  readonly oomScoreAdj: number;
  readonly blkioWeight: number;
  readonly blkioThrottle: readonly {
    device: string;
    readBps?: number;
    writeBps?: number;
    readIops?: number;
    writeIops?: number;
  }[];
  readonly netClassid: string;
  readonly netPriority: number;
  readonly netRateBits: number | null;
  readonly netCeilBits: number | null;
}

export interface ResolvedSuppress {
  readonly enabled: boolean;
  readonly curve: readonly { pressure: number; ratio: number }[];
  readonly interpolation: 'linear' | 'step';
  readonly pressureSource: 'utilization' | 'psi';
  readonly cfsPeriodUs: number;
  readonly floorMilliCPU: number;
  readonly intervalMs: number;
  readonly maxStepUpRatio: number;
}

export interface ResolvedPolicy {
  readonly name: string;
  readonly generation: number | undefined;
  readonly classes: Readonly<Record<QoSClass, ResolvedClass>>;
  readonly suppress: ResolvedSuppress;
  readonly burst: { readonly enabled: boolean; readonly burstPercent: number };
  readonly systemReserved: PolicySpec['systemReserved'];
}

function optionalBits(text: string | undefined): number | null {
  return text === undefined ? null : bandwidthToBits(text);
}

function resolveClass(qosClass: QoSClass, spec: PolicySpec): ResolvedClass {
  const d = classDefaults[qosClass];
  const c = spec.classes?.[qosClass] ?? {};
  return {
    sharesPerCPU: c.cpu?.sharesPerCPU ?? d.sharesPerCPU,
    fixedShares: c.cpu?.shares ?? (c.cpu?.sharesPerCPU === undefined ? (d.fixedShares ?? null) : null),
    cpuset: c.cpu?.cpuset ?? d.cpuset,
    minRatio: c.memory?.minRatio ?? d.minRatio,
    lowRatio: c.memory?.lowRatio ?? d.lowRatio,
    highRatio: c.memory?.highRatio ?? d.highRatio,
    oomScoreAdj: c.oomScoreAdj ?? d.oomScoreAdj,
    blkioWeight: c.blkio?.weight ?? d.blkioWeight,
    blkioThrottle: c.blkio?.throttle ?? d.blkioThrottle,
    netClassid: (c.net?.classid ?? d.netClassid).toLowerCase(),
    netPriority: c.net?.priority ?? d.netPriority,
    netRateBits: optionalBits(c.net?.rate ?? d.netRate),
    netCeilBits: optionalBits(c.net?.ceil ?? d.netCeil),
  };
}

export function resolvePolicy(policy: NodeQoSPolicy): ResolvedPolicy {
  const spec = policy.spec;
  const s = spec.cpuSuppress ?? {};
  return {
    name: policy.metadata.name,
    generation: policy.metadata.generation,
    classes: Object.fromEntries(qosClasses.map(c => [c, resolveClass(c, spec)])) as Record<QoSClass, ResolvedClass>,
    suppress: {
      enabled: s.enabled ?? suppressDefaults.enabled,
      curve: s.curve ?? suppressDefaults.curve,
      interpolation: s.interpolation ?? suppressDefaults.interpolation,
      pressureSource: s.pressureSource ?? suppressDefaults.pressureSource,
      cfsPeriodUs: s.cfsPeriodUs ?? suppressDefaults.cfsPeriodUs,
      floorMilliCPU: s.floorMilliCPU ?? suppressDefaults.floorMilliCPU,
      intervalMs: s.intervalMs ?? suppressDefaults.intervalMs,
      maxStepUpRatio: s.maxStepUpRatio ?? suppressDefaults.maxStepUpRatio,
    },
    burst: {
      enabled: spec.cpuBurst?.enabled ?? burstDefaults.enabled,
      burstPercent: spec.cpuBurst?.burstPercent ?? burstDefaults.burstPercent,
    },
    systemReserved: spec.systemReserved,
  };
}
