// planNode: policy + node + pods (+ topology, + previous plan) -> the node's NodeIsolationPlan. Pure.
import { formatCpuList, maxCpuId, parseCpuList } from '../api/cpulist.ts';
import { apiVersion, qosClasses } from '../api/group.ts';
import type { Node, Pod } from '../api/inputs.ts';
import type { NodeIsolationPlan, PlanPod, PlanSpec } from '../api/plan.ts';
import type { NodeQoSPolicy } from '../api/policy.ts';
import { cpuToMilli } from '../api/quantity.ts';
import { flatTopology, type Topology } from '../api/topology.ts';
import { quotaFor, sharesFor } from './cpu.ts';
import { assignCpusets, previousPinsFrom, type CpusetResult } from './cpusets.ts';
import { memoryFor } from './memory.ts';
import { podFacts, type PodFacts } from './pod-facts.ts';
import {
  resolvePolicy,
  type ExplicitField,
  type ResolvedClass,
  type ResolvedPolicy,
} from './resolved-policy.ts';
import { baseMilli, quotaAt } from './suppress.ts';

export const podCfsPeriodUs = 100000;
const maxWarnings = 2048;

export interface PlanInput {
  readonly policy: NodeQoSPolicy;
  readonly node: Node;
  readonly pods: readonly Pod[];
  readonly topology?: Topology | undefined;
  readonly previous?: PlanSpec | undefined;
  readonly pressure?: number | undefined;
}

type Warning = PlanSpec['warnings'][number];

interface NodeFacts {
  capacityMilli: number;
  systemReservedMilli: number;
  topology: Topology;
  systemCpus: number[];
}

/** A node CPU quantity in millicores; one the planner cannot use fails with the node and the field named. */
function nodeCpuMilli(node: Node, field: 'capacity' | 'allocatable', value: string | number): number {
  try {
    return cpuToMilli(value);
  } catch (error) {
    throw new Error(`node ${node.metadata.name}: status.${field}.cpu: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The policy's override, else what the node keeps back: capacity - allocatable. */
function systemReservedMilli(node: Node, policy: ResolvedPolicy, capacityMilli: number): number {
  const override = policy.systemReserved?.cpu;
  if (override !== undefined) return cpuToMilli(override);
  const allocatable = node.status.allocatable?.cpu;
  return Math.max(
    0,
    capacityMilli -
      (allocatable === undefined ? capacityMilli : nodeCpuMilli(node, 'allocatable', allocatable)),
  );
}

function nodeFacts(input: PlanInput, policy: ResolvedPolicy, warnings: Warning[]): NodeFacts {
  const capacity = input.node.status.capacity?.cpu;
  const capacityMilli = capacity === undefined ? 0 : nodeCpuMilli(input.node, 'capacity', capacity);
  // Linux has at most 8192 CPUs: a larger capacity would give CPU ids no kernel takes and quotas past its maximum.
  if (capacityMilli > (maxCpuId + 1) * 1000)
    throw new Error(
      `node ${input.node.metadata.name}: status.capacity.cpu: ${capacityMilli}m is more than the ${maxCpuId + 1} CPUs Linux supports`,
    );
  const topology = input.topology ?? flatTopology(Math.max(1, Math.ceil(capacityMilli / 1000)));
  if (input.topology && capacityMilli > 0 && topology.cpus.length !== Math.ceil(capacityMilli / 1000)) {
    warnings.push({
      message: `topology has ${topology.cpus.length} CPUs but node capacity is ${capacityMilli}m; pinning uses the topology`,
    });
  }
  const systemCpus =
    policy.systemReserved?.cpus === undefined ? [] : parseCpuList(policy.systemReserved.cpus);
  return {
    capacityMilli,
    systemReservedMilli: systemReservedMilli(input.node, policy, capacityMilli),
    topology,
    systemCpus,
  };
}

function collectPods(input: PlanInput, warnings: Warning[]): PodFacts[] {
  const nodeName = input.node.metadata.name;
  const seen = new Set<string>();
  const facts: PodFacts[] = [];
  for (const pod of input.pods) {
    if (pod.spec.nodeName !== undefined && pod.spec.nodeName !== nodeName) continue;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const result = podFacts(pod);
    if (!result.ok) {
      warnings.push({ pod: result.key, message: result.reason });
      continue;
    }
    if (result.warning) warnings.push({ pod: result.facts.key, message: result.warning });
    if (seen.has(result.facts.uid)) {
      warnings.push({ pod: result.facts.key, message: `skipped: uid ${result.facts.uid} appears twice` });
      continue;
    }
    seen.add(result.facts.uid);
    facts.push(result.facts);
  }
  return facts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function pinCpusets(
  pods: readonly PodFacts[],
  policy: ResolvedPolicy,
  node: NodeFacts,
  previous?: PlanSpec,
): CpusetResult {
  const cpusetOf = (pod: PodFacts): string => policy.classes[pod.qosClass].cpuset;
  return assignCpusets({
    topology: node.topology,
    systemCpus: node.systemCpus,
    candidates: pods
      .filter(p => p.qosClass !== 'BE' && cpusetOf(p) !== 'shared')
      .map(p => ({
        uid: p.uid,
        key: p.key,
        qosClass: p.qosClass,
        policy: policy.classes[p.qosClass].cpuset,
        cpuRequestMilli: p.cpuRequestMilli,
        creationTimestamp: p.creationTimestamp,
        preferredNuma: p.preferredNuma,
      })),
    lsPoolUsers: pods.filter(p => p.qosClass !== 'BE' && cpusetOf(p) === 'shared').map(p => p.uid),
    bePodCount: pods.filter(p => p.qosClass === 'BE').length,
    previous: previousPinsFrom(previous?.pods ?? []),
  });
}

function ratioOf(cls: ResolvedClass, field: ExplicitField): number {
  return field === 'memory.minRatio'
    ? cls.minRatio
    : field === 'memory.lowRatio'
      ? cls.lowRatio
      : field === 'memory.highRatio'
        ? cls.highRatio
        : cls.sharesPerCPU;
}

function podPlan(pod: PodFacts, policy: ResolvedPolicy, cpusets: CpusetResult, warnings: Warning[]): PlanPod {
  const cls = policy.classes[pod.qosClass];
  const shares =
    cls.fixedShares === null ? sharesFor(pod.cpuRequestMilli, cls.sharesPerCPU) : { value: cls.fixedShares };
  // Defaults that clamp (LSE's 262144 per CPU above 1 CPU) are documented, not warned about (README, Defaults).
  if (shares.requested !== undefined && cls.fixedShares === null && cls.explicit.has('cpu.sharesPerCPU')) {
    warnings.push({
      pod: pod.key,
      message: `spec.classes.${cls.qosClass}.cpu.sharesPerCPU ${cls.sharesPerCPU} gives cpu.shares ${shares.requested}; clamped to ${shares.value} (kernel range 2..262144)`,
    });
  }
  const pin = cpusets.pins.get(pod.uid);
  // A pinned pod's quota is exactly the CPUs it owns: never throttled below its cpuset (Koordinator #489),
  // while containers keep their own limits so one cannot starve the others (#2633). See docs/decisions/0004.
  const cfsQuotaUs = pin ? pin.cpus.length * podCfsPeriodUs : quotaFor(pod.cpuLimitMilli, podCfsPeriodUs);
  const burstOn = policy.burst.enabled && pod.qosClass === 'LS' && cfsQuotaUs > 0;
  const memory = memoryFor(pod.memoryRequestBytes, pod.memoryLimitBytes, cls);
  for (const a of memory.adjustments) {
    if (a.causes.length === 0) continue; // the defaults' own order (README, Defaults), not the user's doing
    const fields = a.causes.map(f => `spec.classes.${cls.qosClass}.${f} ${ratioOf(cls, f)}`).join(', ');
    const below = a.knob === 'memory.low' ? 'memory.high' : 'memory.low';
    warnings.push({
      pod: pod.key,
      message: `${fields}: ${a.knob} ${a.from} is above ${below}; lowered to ${a.to}`,
    });
  }
  return {
    uid: pod.uid,
    namespace: pod.namespace,
    name: pod.name,
    qosClass: pod.qosClass,
    kubeQoS: pod.kubeQoS,
    cpu: {
      shares: shares.value,
      cfsQuotaUs,
      cfsPeriodUs: podCfsPeriodUs,
      cfsBurstUs: burstOn
        ? Math.min(cfsQuotaUs, Math.floor((cfsQuotaUs * policy.burst.burstPercent) / 100))
        : 0,
      cpuset: formatCpuList(pin ? pin.cpus : pod.qosClass === 'BE' ? cpusets.bePool : cpusets.lsPool),
      pinned: pin ? pin.policy : 'shared',
    },
    memory: memory.memory,
    oomScoreAdj: cls.oomScoreAdj,
    blkio: { weight: cls.blkioWeight, throttle: cls.blkioThrottle.map(t => ({ ...t })) },
    net: { classid: cls.netClassid, priority: cls.netPriority },
  };
}

function suppressPlan(
  pods: readonly PodFacts[],
  policy: ResolvedPolicy,
  node: NodeFacts,
): PlanSpec['cpuSuppress'] {
  const s = policy.suppress;
  const base = baseMilli({
    capacityMilli: node.capacityMilli,
    nonBERequestsMilli: pods.filter(p => p.qosClass !== 'BE').reduce((sum, p) => sum + p.cpuRequestMilli, 0),
    systemReservedMilli: node.systemReservedMilli,
  });
  const floorQuotaUs = Math.max(1000, Math.floor((s.floorMilliCPU * s.cfsPeriodUs) / 1000));
  return {
    enabled: s.enabled,
    baseMilliCPU: base,
    cfsPeriodUs: s.cfsPeriodUs,
    floorQuotaUs,
    ceilingQuotaUs: Math.max(floorQuotaUs, Math.floor((base * s.cfsPeriodUs) / 1000)),
    curve: s.curve.map(p => ({ ...p })),
    interpolation: s.interpolation,
    pressureSource: s.pressureSource,
    intervalMs: s.intervalMs,
    maxStepUpQuotaUs: Math.max(1, Math.floor(((base * s.cfsPeriodUs) / 1000) * s.maxStepUpRatio)),
    deadbandQuotaUs: Math.floor((node.capacityMilli * s.cfsPeriodUs) / 1000 / 100),
  };
}

function classDefaultsOf(policy: ResolvedPolicy): PlanSpec['classDefaults'] {
  return qosClasses.map(qosClass => {
    const c = policy.classes[qosClass];
    return {
      qosClass,
      sharesPerCPU: c.sharesPerCPU,
      fixedShares: c.fixedShares,
      oomScoreAdj: c.oomScoreAdj,
      blkioWeight: c.blkioWeight,
      netClassid: c.netClassid,
      netPriority: c.netPriority,
    };
  });
}

export function planNode(input: PlanInput): NodeIsolationPlan {
  const policy = resolvePolicy(input.policy);
  const warnings: Warning[] = [];
  const node = nodeFacts(input, policy, warnings);
  const pods = collectPods(input, warnings);
  const cpusets = pinCpusets(pods, policy, node, input.previous);
  warnings.push(...cpusets.warnings);
  const planPods = pods.map(pod => podPlan(pod, policy, cpusets, warnings));
  const cpuSuppress = suppressPlan(pods, policy, node);
  if (input.pressure !== undefined) {
    cpuSuppress.evaluatedPressure = input.pressure;
    cpuSuppress.quotaAtPressure = quotaAt(cpuSuppress, input.pressure);
  }
  const spec: PlanSpec = {
    nodeName: input.node.metadata.name,
    policyName: policy.name,
    ...(policy.generation === undefined ? {} : { policyGeneration: policy.generation }),
    nodeCapacityMilliCPU: node.capacityMilli,
    podCount: planPods.length,
    cpuSuppress,
    cpuBurst: { ...policy.burst },
    pools: { ls: formatCpuList(cpusets.lsPool), be: formatCpuList(cpusets.bePool) },
    classDefaults: classDefaultsOf(policy),
    net: {
      classes: qosClasses.map(qosClass => {
        const c = policy.classes[qosClass];
        return {
          qosClass,
          classid: c.netClassid,
          priority: c.netPriority,
          rateBitsPerSec: c.netRateBits,
          ceilBitsPerSec: c.netCeilBits,
        };
      }),
    },
    pods: planPods,
    warnings: warnings.slice(0, maxWarnings),
  };
  return { apiVersion, kind: 'NodeIsolationPlan', metadata: { name: input.node.metadata.name }, spec };
}
