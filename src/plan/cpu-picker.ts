// Chooses CPUs for one pinned pod the way kubelet's packed picker does (takeByTopologyNUMAPacked in
// pkg/kubelet/cm/cpumanager/cpu_assignment.go), with two additions; docs/decisions/0115-kubelet-packed-cpu-picker.md.
//
// Per pass, over a candidate set of free CPUs:
//   1. whole NUMA nodes and whole sockets the request can fill (the larger unit first, as kubelet);
//   2. where one NUMA node can hold the rest with no more loose threads than the whole candidate set needs, only
//      that node (nodeqos: kubelet leaves this to its topology manager): the tightest (fewest free CPUs), then
//      the lowest id;
//   3. when the topology carries L3 cache ids: whole L3 groups the rest fills, then the one group that holds the
//      rest, chosen as in 2 (kubelet's prefer-align-cpus-by-uncorecache, on by default here);
//   4. whole physical cores across every candidate before any loose thread;
//   5. single threads, filling the most used cores of the most used units first.
// Units are ordered like kubelet's sortAvailable*: fewest free CPUs first, then lowest id.
// A NUMA preference makes a first pass over the preferred node alone (as many CPUs as it has free, all of
// them when it fits); a second pass takes the rest from the other candidates.
import type { Topology } from '../api/topology.ts';
import { indexTopology, type Level, type TopologyIndex } from './topology-index.ts';

function groupBy(index: TopologyIndex, cpus: readonly number[], level: Level): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const cpu of cpus) {
    const key = index.units.get(cpu)?.[level] ?? 0;
    const list = groups.get(key);
    if (list) list.push(cpu);
    else groups.set(key, [cpu]);
  }
  return groups;
}

class Accumulator {
  readonly result: number[] = [];
  private candidates: number[];
  need: number;
  private readonly index: TopologyIndex;

  constructor(index: TopologyIndex, candidates: readonly number[], need: number) {
    this.index = index;
    this.candidates = [...candidates].sort((a, b) => a - b);
    this.need = need;
  }

  private isWhole(level: Level, key: number, freeCount: number): boolean {
    return this.index.members[level].get(key)?.length === freeCount;
  }

  private take(cpus: readonly number[]): void {
    const taken = new Set(cpus);
    this.candidates = this.candidates.filter(cpu => !taken.has(cpu));
    this.result.push(...cpus);
    this.need -= cpus.length;
  }

  /** Step 1 and the first half of 3: units all of whose CPUs are free, smallest then lowest id, while they fit. */
  takeWholeUnits(level: Level): void {
    if (this.need < this.index.minSize[level]) return;
    const whole = [...groupBy(this.index, this.candidates, level)]
      .filter(([key, cpus]) => this.isWhole(level, key, cpus.length))
      .sort(([ka, a], [kb, b]) => a.length - b.length || ka - kb);
    for (const [, cpus] of whole) {
      if (this.need <= 0) return;
      if (cpus.length <= this.need) this.take(cpus);
    }
  }

  /** CPUs a request of `need` would have to take as loose threads in `cpus`, after its whole cores. */
  private looseThreads(cpus: readonly number[], need: number): number {
    let remaining = need;
    for (const [key, coreCpus] of groupBy(this.index, cpus, 'core')) {
      if (this.isWhole('core', key, coreCpus.length) && coreCpus.length <= remaining)
        remaining -= coreCpus.length;
    }
    return remaining;
  }

  /**
   * Steps 2 and 3: keep only the unit that best holds the rest of the request, when one does without costing a
   * split core: locality never buys a thread that shares its core with another pod while whole cores exist.
   */
  restrictToFittingUnit(level: Level): void {
    if (this.need <= 0) return;
    const groups = [...groupBy(this.index, this.candidates, level)];
    if (groups.length < 2) return;
    const leastLoose = this.looseThreads(this.candidates, this.need);
    const fitting = groups
      .filter(([, cpus]) => cpus.length >= this.need)
      .map(([key, cpus]) => ({ key, cpus, loose: this.looseThreads(cpus, this.need) }))
      .filter(unit => unit.loose === leastLoose)
      .sort((a, b) => a.cpus.length - b.cpus.length || a.key - b.key);
    const best = fitting[0];
    if (best) this.candidates = best.cpus;
  }

  /** Cores in kubelet's packed order: by the larger unit, then the smaller, then the core; fewest free first. */
  private orderedCores(): { key: number; cpus: number[] }[] {
    const { units, numaFirst } = this.index;
    const numaFree = groupBy(this.index, this.candidates, 'numa');
    const socketFree = groupBy(this.index, this.candidates, 'socket');
    const sortKey = (cpu: number, coreFree: number): number[] => {
      const u = units.get(cpu);
      const numa = u?.numa ?? 0;
      const socket = u?.socket ?? 0;
      const nf = numaFree.get(numa)?.length ?? 0;
      const sf = socketFree.get(socket)?.length ?? 0;
      const head = numaFirst ? [nf, numa, sf, socket] : [sf, socket, nf, numa];
      return [...head, coreFree, u?.core ?? 0];
    };
    const cores = [...groupBy(this.index, this.candidates, 'core')].map(([key, cpus]) => ({
      key,
      cpus,
      sortKey: sortKey(cpus[0] ?? 0, cpus.length),
    }));
    cores.sort((a, b) => {
      for (let i = 0; i < a.sortKey.length; i++) {
        const d = (a.sortKey[i] ?? 0) - (b.sortKey[i] ?? 0);
        if (d !== 0) return d;
      }
      return 0;
    });
    return cores;
  }

  /** Step 4: every whole free core the rest can fill, across all candidates. */
  takeWholeCores(): void {
    if (this.need < this.index.minSize.core) return;
    for (const core of this.orderedCores()) {
      if (this.need <= 0) return;
      if (this.isWhole('core', core.key, core.cpus.length) && core.cpus.length <= this.need)
        this.take(core.cpus);
    }
  }

  /** Step 5: loose threads, the most used cores first. */
  takeThreads(): void {
    for (const core of this.orderedCores()) {
      if (this.need <= 0) return;
      this.take(core.cpus.slice(0, this.need));
    }
  }

  run(): void {
    const [larger, smaller]: [Level, Level] = this.index.numaFirst ? ['numa', 'socket'] : ['socket', 'numa'];
    this.takeWholeUnits(larger);
    this.takeWholeUnits(smaller);
    this.restrictToFittingUnit('numa');
    if (this.index.hasL3) {
      this.takeWholeUnits('l3');
      this.restrictToFittingUnit('l3');
    }
    this.takeWholeCores();
    this.takeThreads();
  }
}

/** Picks `count` CPUs from `free`, or returns null when there are not enough. */
export function pickCpus(
  topology: Topology,
  free: ReadonlySet<number>,
  count: number,
  preferredNuma?: number,
): number[] | null {
  const index = indexTopology(topology);
  const candidates = [...free].filter(cpu => index.units.has(cpu));
  if (count <= 0 || candidates.length < count) return null;
  const preferred =
    preferredNuma === undefined ? [] : candidates.filter(cpu => index.units.get(cpu)?.numa === preferredNuma);
  const result: number[] = [];
  if (preferred.length > 0) {
    const first = new Accumulator(index, preferred, Math.min(count, preferred.length));
    first.run();
    result.push(...first.result);
  }
  if (result.length < count) {
    const taken = new Set(result);
    const rest = new Accumulator(
      index,
      candidates.filter(cpu => !taken.has(cpu)),
      count - result.length,
    );
    rest.run();
    result.push(...rest.result);
  }
  return result.length === count ? result.sort((a, b) => a - b) : null;
}
