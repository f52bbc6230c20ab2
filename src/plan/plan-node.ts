// planNode: policy + node + pods (+ topology, + previous plan) -> the node's NodeIsolationPlan. Pure.
import { kubeletExclusiveCpusAnnotation, kubeletReservedCpusAnnotation } from '../api/labels.ts';
import { formatCpuList, maxCpuId, parseCpuList } from '../api/cpulist.ts';
import { apiVersion, qosClasses } from '../api/group.ts';
import type { Node, Pod } from '../api/inputs.ts';
import type { NodeIsolationPlan, PlanPod, PlanSpec } from '../api/plan.ts';
import type { NodeQoSPolicy } from '../api/policy.ts';
import { cpuToMilli } from '../api/quantity.ts';
import { flatTopology, type Topology } from '../api/topology.ts';
import { quotaFor, sharesFor, type Clamped } from './cpu.ts';
import { assignCpusets, previousPinsFrom, type CpusetResult } from './cpusets.ts';
import { memoryFor, type MemoryAdjustment } from './memory.ts';
import { podFacts, type PodFacts } from './pod-facts.ts';
import {
  resolvePolicy,
  type ExplicitField,
  type ResolvedClass,
  type ResolvedPolicy,
} from './resolved-policy.ts';
import { baseMilli, quotaAt } from './suppress.ts';
import { topologyProblems, topologyRefusal } from './topology-fit.ts';

export const podCfsPeriodUs = 100000;
export const maxWarnings = 2048;

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
  /** Why the reported topology was refused (the flat one is used instead). */
  topologyRefusal: string | undefined;
  systemCpus: number[];
  kubeletCpus: number[];
}

// kubelet's --reserved-cpus (like the policy's systemReserved.cpus) and its static CPU manager's CPUs, as the node
// reports them (docs/decisions/0115); the names live in src/api/labels.ts.
export { kubeletExclusiveCpusAnnotation, kubeletReservedCpusAnnotation };

function annotatedCpus(node: Node, annotation: string, warnings: Warning[]): number[] {
  const value = node.metadata.annotations?.[annotation];
  if (value === undefined) return [];
  try {
    return parseCpuList(value);
  } catch (error) {
    warnings.push({
      message: `node annotation ${annotation}: ${(error as Error).message}; ignored`.slice(0, 1024),
    });
    return [];
  }
}

/** A node whose CPU figures cannot be planned: the node gets no plan, its policy a condition (not governed). */
export class NodeCapacityError extends Error {
  override readonly name = 'NodeCapacityError';
}

/** A node CPU quantity in millicores; one the planner cannot use fails with the node and the field named. */
function nodeCpuMilli(node: Node, field: 'capacity' | 'allocatable', value: string | number): number {
  try {
    return cpuToMilli(value);
  } catch (error) {
    throw new NodeCapacityError(
      `node ${node.metadata.name}: status.${field}.cpu: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * The node's CPU capacity in millicores, or a NodeCapacityError: missing, unparseable, below one CPU (there is
 * nothing to divide into pools) or above the 8192 CPUs Linux supports (ids and quotas no kernel takes).
 */
export function nodeCapacityMilli(node: Node): number {
  const capacity = node.status.capacity?.cpu;
  const where = `node ${node.metadata.name}: status.capacity.cpu`;
  if (capacity === undefined) throw new NodeCapacityError(`${where} is missing`);
  const milli = nodeCpuMilli(node, 'capacity', capacity);
  if (milli < 1000) throw new NodeCapacityError(`${where}: ${milli}m is less than one CPU`);
  if (milli > (maxCpuId + 1) * 1000)
    throw new NodeCapacityError(`${where}: ${milli}m is more than the ${maxCpuId + 1} CPUs Linux supports`);
  return milli;
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

/** The reported topology when it fits the node, else the flat one and a warning naming the refused fields. */
function usableTopology(
  input: PlanInput,
  capacityMilli: number,
  warnings: Warning[],
): { topology: Topology; refusal: string | undefined } {
  const cpuCount = Math.max(1, Math.ceil(capacityMilli / 1000));
  if (!input.topology) return { topology: flatTopology(cpuCount), refusal: undefined };
  const problems = topologyProblems(input.topology, cpuCount);
  if (problems.length === 0) return { topology: input.topology, refusal: undefined };
  const refusal = topologyRefusal(problems).slice(0, 1024);
  warnings.push({ message: refusal });
  return { topology: flatTopology(cpuCount), refusal };
}

function nodeFacts(input: PlanInput, policy: ResolvedPolicy, warnings: Warning[]): NodeFacts {
  const capacityMilli = nodeCapacityMilli(input.node);
  const { topology, refusal } = usableTopology(input, capacityMilli, warnings);
  const systemCpus = [
    ...(policy.systemReserved?.cpus === undefined ? [] : parseCpuList(policy.systemReserved.cpus)),
    ...annotatedCpus(input.node, kubeletReservedCpusAnnotation, warnings),
  ];
  return {
    capacityMilli,
    systemReservedMilli: systemReservedMilli(input.node, policy, capacityMilli),
    topology,
    topologyRefusal: refusal,
    systemCpus: [...new Set(systemCpus)].sort((a, b) => a - b),
    kubeletCpus: annotatedCpus(input.node, kubeletExclusiveCpusAnnotation, warnings),
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
    kubeletCpus: node.kubeletCpus,
    candidates: pods
      .filter(p => p.qosClass !== 'BE' && cpusetOf(p) !== 'shared' && p.conservative === undefined)
      .map(p => ({
        uid: p.uid,
        key: p.key,
        qosClass: p.qosClass,
        policy: policy.classes[p.qosClass].cpuset,
        cpuRequestMilli: p.cpuRequestMilli,
        creationTimestamp: p.creationTimestamp,
        preferredNuma: p.preferredNuma,
      })),
    lsPoolUsers: pods
      .filter(p => p.qosClass !== 'BE' && (cpusetOf(p) === 'shared' || p.conservative !== undefined))
      .map(p => p.uid),
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

/** Defaults that clamp (LSE's 262144 per CPU above 1 CPU) are documented, not warned about (README, Defaults). */
function warnShares(pod: PodFacts, cls: ResolvedClass, shares: Clamped, warnings: Warning[]): void {
  const userSet = cls.fixedShares === null && cls.explicit.has('cpu.sharesPerCPU');
  if (shares.requested === undefined || shares.requested <= shares.value || !userSet) return;
  warnings.push({
    pod: pod.key,
    message: `spec.classes.${cls.qosClass}.cpu.sharesPerCPU ${cls.sharesPerCPU} gives cpu.shares ${shares.requested}; clamped to ${shares.value} (kernel range 2..262144)`,
  });
}

/** Only order adjustments a ratio the policy set brought about; the defaults' own order is documented. */
function warnMemory(
  pod: PodFacts,
  cls: ResolvedClass,
  adjustments: readonly MemoryAdjustment[],
  warnings: Warning[],
): void {
  for (const a of adjustments) {
    if (a.causes.length === 0) continue;
    const fields = a.causes.map(f => `spec.classes.${cls.qosClass}.${f} ${ratioOf(cls, f)}`).join(', ');
    const below = a.knob === 'memory.low' ? 'memory.high' : 'memory.low';
    warnings.push({
      pod: pod.key,
      message: `${fields}: ${a.knob} ${a.from} is above ${below}; lowered to ${a.to}`,
    });
  }
}

function podPlan(pod: PodFacts, policy: ResolvedPolicy, cpusets: CpusetResult, warnings: Warning[]): PlanPod {
  const cls = policy.classes[pod.qosClass];
  const shares =
    cls.fixedShares === null ? sharesFor(pod.cpuRequestMilli, cls.sharesPerCPU) : { value: cls.fixedShares };
  warnShares(pod, cls, shares, warnings);
  const pin = cpusets.pins.get(pod.uid);
  // A pinned pod's quota is exactly the CPUs it owns: never throttled below its cpuset (Koordinator #489),
  // while containers keep their own limits so one cannot starve the others (#2633). See docs/decisions/0004.
  const cfsQuotaUs = pin ? pin.cpus.length * podCfsPeriodUs : quotaFor(pod.cpuLimitMilli, podCfsPeriodUs);
  const burstOn = policy.burst.enabled && pod.qosClass === 'LS' && cfsQuotaUs > 0;
  const memory = memoryFor(pod.memoryRequestBytes, pod.memoryLimitBytes, cls);
  warnMemory(pod, cls, memory.adjustments, warnings);
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
      cpuset: pin
        ? formatCpuList(pin.cpus)
        : pod.qosClass === 'BE'
          ? cpusets.poolText.be
          : cpusets.poolText.ls,
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
    beIdle: s.beIdle,
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

/** A pod planned conservatively because it could not be read in full (the controller records an Event on it). */
export interface ConservativePod {
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
}

export function planNode(input: PlanInput): NodeIsolationPlan {
  return planNodeWithNotes(input).plan;
}

/** planNode, plus which pods it had to plan conservatively and why the reported topology was refused. */
export function planNodeWithNotes(input: PlanInput): {
  plan: NodeIsolationPlan;
  conservative: ConservativePod[];
  topologyRefusal: string | undefined;
} {
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
    eviction: structuredClone(policy.eviction),
    pools: { ...cpusets.poolText },
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
  const conservative = pods.flatMap(p =>
    p.conservative === undefined ? [] : [{ namespace: p.namespace, name: p.name, reason: p.conservative }],
  );
  return {
    plan: { apiVersion, kind: 'NodeIsolationPlan', metadata: { name: input.node.metadata.name }, spec },
    conservative,
    topologyRefusal: node.topologyRefusal,
  };
}
