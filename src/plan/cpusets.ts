// Pinned cpusets for every pod of an exclusive/reserved class, stable across plans, and the shared pools.
import { formatCpuList, parseCpuList } from '../api/cpulist.ts';
import type { CpusetPolicy, QoSClass } from '../api/group.ts';
import type { Topology } from '../api/topology.ts';
import { pickCpus } from './cpu-picker.ts';

export { numaNodeAnnotation } from '../api/labels.ts';

export interface PinCandidate {
  readonly uid: string;
  readonly key: string; // namespace/name, for messages and ordering
  readonly qosClass: QoSClass;
  readonly policy: CpusetPolicy;
  readonly cpuRequestMilli: number;
  readonly creationTimestamp: string;
  readonly preferredNuma: number | undefined;
}

export interface PreviousPin {
  readonly cpus: readonly number[];
  readonly policy: CpusetPolicy;
}

export interface CpusetResult {
  readonly pins: ReadonlyMap<string, { cpus: number[]; policy: 'exclusive' | 'reserved' }>;
  readonly lsPool: number[];
  readonly bePool: number[];
  /** The pools as cpu lists, formatted once: every unpinned pod's cpuset is one of them. */
  readonly poolText: { readonly ls: string; readonly be: string };
  readonly warnings: readonly { pod?: string; message: string }[];
}

const classOrder: Record<QoSClass, number> = { LSE: 0, LSR: 1, LS: 2, BE: 3 };

function byPinOrder(a: PinCandidate, b: PinCandidate): number {
  return (
    classOrder[a.qosClass] - classOrder[b.qosClass] ||
    a.creationTimestamp.localeCompare(b.creationTimestamp) ||
    a.key.localeCompare(b.key)
  );
}

/** Who holds a CPU: a nodeqos pin, or kubelet's own static CPU manager (exclusive to its containers). */
type Holder = 'exclusive' | 'reserved' | 'kubelet';

const excludesBe = (holder: Holder | undefined): boolean => holder === 'exclusive' || holder === 'kubelet';

interface PinState {
  readonly all: ReadonlySet<number>;
  readonly system: ReadonlySet<number>;
  readonly taken: Map<number, Holder>;
  readonly pins: Map<string, { cpus: number[]; policy: 'exclusive' | 'reserved' }>;
  readonly warnings: { pod?: string; message: string }[];
}

/** Why a previous pin cannot be kept as it is, if it cannot. */
function keepProblem(state: PinState, pod: PinCandidate, previous: PreviousPin): string | undefined {
  const wanted = pod.cpuRequestMilli / 1000;
  if (previous.policy !== pod.policy) return `cpuset policy changed from ${previous.policy} to ${pod.policy}`;
  if (previous.cpus.length !== wanted) return `CPU request changed from ${previous.cpus.length} to ${wanted}`;
  if (previous.cpus.some(cpu => !state.all.has(cpu) || state.system.has(cpu) || state.taken.has(cpu)))
    return 'previous CPUs are no longer available';
  // Kept pins older than the rule in pinNew (or a previous plan edited by hand) can still hold every CPU: the
  // youngest such pin is given up, so BE never runs on an exclusive CPU (docs/decisions/0119).
  if (pod.policy === 'exclusive' && beCpusLeft(state, previous.cpus) === 0)
    return 'keeping its CPUs would leave no CPU outside exclusive pins for BE pods';
  return undefined;
}

function keepPrevious(state: PinState, pod: PinCandidate, previous: PreviousPin | undefined): boolean {
  if (!previous || pod.policy === 'shared') return false;
  const problem = keepProblem(state, pod, previous);
  if (problem) {
    state.warnings.push({ pod: pod.key, message: `re-pinning: ${problem}` });
    return false;
  }
  const policy = pod.policy;
  for (const cpu of previous.cpus) state.taken.set(cpu, policy);
  state.pins.set(pod.uid, { cpus: [...previous.cpus].sort((a, b) => a - b), policy });
  return true;
}

/** CPUs BE could still run on if `exclusive` became exclusive too. */
function beCpusLeft(state: PinState, exclusive: readonly number[]): number {
  const more = new Set(exclusive);
  let left = 0;
  for (const cpu of state.all) if (!excludesBe(state.taken.get(cpu)) && !more.has(cpu)) left++;
  return left;
}

function pools(state: PinState): { ls: number[]; be: number[] } {
  const ls = [...state.all].filter(cpu => !state.taken.has(cpu) && !state.system.has(cpu));
  const be = [...state.all].filter(cpu => !excludesBe(state.taken.get(cpu)));
  return { ls: ls.sort((a, b) => a - b), be: be.sort((a, b) => a - b) };
}

interface PoolDemand {
  /** Pods that run in the LS pool unless they get pinned (non-BE pods not yet pinned). */
  lsUsers: Set<string>;
  beUsers: number;
}

function pinNew(state: PinState, topology: Topology, pod: PinCandidate, demand: PoolDemand): void {
  if (pod.cpuRequestMilli <= 0 || pod.cpuRequestMilli % 1000 !== 0) {
    state.warnings.push({
      pod: pod.key,
      message: `not pinned: ${pod.policy} needs a whole-CPU request, got ${pod.cpuRequestMilli}m; runs in the LS pool`,
    });
    return;
  }
  const count = pod.cpuRequestMilli / 1000;
  const free = new Set([...state.all].filter(cpu => !state.taken.has(cpu) && !state.system.has(cpu)));
  const cpus = pickCpus(topology, free, count, pod.preferredNuma);
  if (!cpus) {
    state.warnings.push({
      pod: pod.key,
      message: `not pinned: ${count} CPUs wanted, ${free.size} free; runs in the LS pool`,
    });
    return;
  }
  const policy = pod.policy === 'exclusive' ? 'exclusive' : 'reserved';
  const lsLeft = free.size - cpus.length;
  const othersNeedLs = [...demand.lsUsers].some(uid => uid !== pod.uid);
  // The last CPU outside exclusive pins is never made exclusive, BE pods or not: they can arrive at any time
  // and pins never move (kubelet's static policy likewise never hands out its whole shared pool).
  const beLeft = beCpusLeft(state, policy === 'exclusive' ? cpus : []);
  if ((lsLeft === 0 && othersNeedLs) || beLeft === 0) {
    state.warnings.push({
      pod: pod.key,
      message:
        beLeft === 0
          ? `not pinned: ${count} exclusive CPUs would leave no CPU for BE pods; runs in the LS pool`
          : `not pinned: ${count} CPUs would leave the LS pool empty; runs in the LS pool`,
    });
    return;
  }
  for (const cpu of cpus) state.taken.set(cpu, policy);
  state.pins.set(pod.uid, { cpus, policy });
  demand.lsUsers.delete(pod.uid);
}

/**
 * Pins pods whose class asks for exclusive or reserved CPUs. Existing pins are kept as long as they are still
 * valid (a pod's CPUs never move); new pods are pinned LSE first, then LSR, then oldest first, then by name.
 */
export function assignCpusets(input: {
  topology: Topology;
  systemCpus: readonly number[];
  /** CPUs kubelet's static CPU manager holds for its own containers: never pinned, in neither pool. */
  kubeletCpus: readonly number[];
  candidates: readonly PinCandidate[];
  lsPoolUsers: readonly string[];
  bePodCount: number;
  previous: ReadonlyMap<string, PreviousPin>;
}): CpusetResult {
  const all = new Set(input.topology.cpus.map(c => c.id));
  const state: PinState = {
    all,
    system: new Set(input.systemCpus.filter(cpu => all.has(cpu))),
    taken: new Map(),
    pins: new Map(),
    warnings: [],
  };
  for (const cpu of input.kubeletCpus) if (all.has(cpu)) state.taken.set(cpu, 'kubelet');
  const ordered = input.candidates.filter(p => p.policy !== 'shared').sort(byPinOrder);
  const fresh = ordered.filter(pod => !keepPrevious(state, pod, input.previous.get(pod.uid)));
  const demand: PoolDemand = {
    lsUsers: new Set([...input.lsPoolUsers, ...fresh.map(p => p.uid)]),
    beUsers: input.bePodCount,
  };
  for (const pod of fresh) pinNew(state, input.topology, pod, demand);
  const { lsPool, bePool } = nonEmptyPools(state, demand);
  return {
    pins: state.pins,
    lsPool,
    bePool,
    poolText: { ls: formatCpuList(lsPool), be: formatCpuList(bePool) },
    warnings: state.warnings,
  };
}

/**
 * The pools, never empty while a pod needs one. Pins kept from the previous plan can hold every CPU a pod that
 * arrived since could use (pinNew never does that): such pods share CPUs instead, with a warning.
 */
function nonEmptyPools(state: PinState, demand: PoolDemand): { lsPool: number[]; bePool: number[] } {
  const { ls, be } = pools(state);
  const everyCpu = [...state.all].sort((a, b) => a - b);
  let bePool = be;
  if (be.length === 0 && demand.beUsers > 0) {
    // Only kubelet's own exclusive CPUs can get here (nodeqos's pins always leave one CPU): nothing is left.
    state.warnings.push({
      message: 'the BE pool is empty: kubelet-exclusive CPUs hold every CPU; BE pods share all CPUs',
    });
    bePool = everyCpu;
  }
  if (ls.length > 0 || demand.lsUsers.size === 0) return { lsPool: ls, bePool };
  const system = [...state.system].sort((a, b) => a - b);
  state.warnings.push({
    message:
      system.length > 0
        ? 'the LS pool is empty: system CPUs cover every unpinned CPU; LS pods use the system CPUs'
        : 'the LS pool is empty: kept pins hold every CPU; LS pods share the BE pool',
  });
  return { lsPool: system.length > 0 ? system : bePool.length > 0 ? bePool : everyCpu, bePool };
}

export function previousPinsFrom(
  pods: readonly { uid: string; cpu: { cpuset: string; pinned: CpusetPolicy } }[],
): Map<string, PreviousPin> {
  const result = new Map<string, PreviousPin>();
  for (const pod of pods) {
    if (pod.cpu.pinned === 'shared') continue;
    result.set(pod.uid, { cpus: parseCpuList(pod.cpu.cpuset), policy: pod.cpu.pinned });
  }
  return result;
}

export { formatCpuList };
