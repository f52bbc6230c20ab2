// Chooses CPUs for one pinned pod, in the manner of kubelet's packed picker (takeByTopologyNUMAPacked):
// whole sockets and NUMA nodes the request can fill, then whole physical cores, then single threads;
// inside the tightest NUMA node that fits the rest, crossing NUMA nodes only when none does.
import type { Topology, TopologyCpu } from '../api/topology.ts';

type Unit = (cpu: TopologyCpu) => string;
const bySocket: Unit = cpu => `s${cpu.socket}`;
const byNuma: Unit = cpu => `n${cpu.numa}`;
const byCore: Unit = cpu => `s${cpu.socket}c${cpu.core}`;

function groupBy(cpus: readonly TopologyCpu[], unit: Unit): Map<string, TopologyCpu[]> {
  const groups = new Map<string, TopologyCpu[]>();
  for (const cpu of cpus) {
    const key = unit(cpu);
    const list = groups.get(key) ?? [];
    list.push(cpu);
    groups.set(key, list);
  }
  return groups;
}

const lowestId = (cpus: readonly TopologyCpu[]): number => Math.min(...cpus.map(c => c.id));

class Picker {
  private readonly free: TopologyCpu[];
  private readonly all: readonly TopologyCpu[];
  readonly taken: number[] = [];

  constructor(topology: Topology, free: ReadonlySet<number>) {
    this.all = topology.cpus;
    this.free = topology.cpus.filter(c => free.has(c.id));
  }

  get remainingFree(): number {
    return this.free.length;
  }

  take(cpus: readonly TopologyCpu[]): void {
    for (const cpu of cpus) {
      const index = this.free.indexOf(cpu);
      if (index >= 0) {
        this.free.splice(index, 1);
        this.taken.push(cpu.id);
      }
    }
  }

  /** Takes units (sockets, NUMA nodes) that are entirely free while the request still needs a whole one. */
  takeWholeUnits(unit: Unit, needed: number): number {
    const totals = groupBy(this.all, unit);
    const freeGroups = [...groupBy(this.free, unit).entries()]
      .filter(([key, cpus]) => cpus.length === totals.get(key)?.length)
      .sort(([, a], [, b]) => lowestId(a) - lowestId(b));
    let remaining = needed;
    for (const [, cpus] of freeGroups) {
      if (cpus.length > remaining) continue;
      this.take(cpus);
      remaining -= cpus.length;
    }
    return remaining;
  }

  /** Full physical cores (all their threads free), then threads from the fullest cores. */
  takeCoresThenThreads(scope: readonly TopologyCpu[], needed: number): number {
    const totals = groupBy(this.all, byCore);
    const cores = [...groupBy(scope, byCore).entries()];
    let remaining = needed;
    const fullCores = cores
      .filter(([key, cpus]) => cpus.length === totals.get(key)?.length)
      .sort(([, a], [, b]) => lowestId(a) - lowestId(b));
    for (const [, cpus] of fullCores) {
      if (cpus.length > remaining) continue;
      this.take(cpus);
      remaining -= cpus.length;
    }
    const threads = [
      ...groupBy(
        scope.filter(c => this.free.includes(c)),
        byCore,
      ).values(),
    ]
      .sort((a, b) => a.length - b.length || lowestId(a) - lowestId(b))
      .flatMap(cpus => [...cpus].sort((a, b) => a.id - b.id));
    for (const cpu of threads.slice(0, remaining)) this.take([cpu]);
    return Math.max(0, remaining - threads.length);
  }

  /** NUMA nodes ordered for the rest of a request: the preferred one, then the tightest fit, else the roomiest. */
  numaOrder(needed: number, preferredNuma: number | undefined): TopologyCpu[][] {
    const nodes = [...groupBy(this.free, byNuma).values()];
    const socketFree = groupBy(this.free, bySocket);
    const freeInSocket = (cpus: readonly TopologyCpu[]): number => {
      const first = cpus[0];
      return first ? (socketFree.get(bySocket(first))?.length ?? 0) : 0;
    };
    const fits = nodes.filter(cpus => cpus.length >= needed);
    const preferred = fits.find(cpus => cpus[0]?.numa === preferredNuma);
    if (preferred) return [preferred];
    if (fits.length > 0) {
      fits.sort(
        (a, b) => a.length - b.length || freeInSocket(a) - freeInSocket(b) || lowestId(a) - lowestId(b),
      );
      return fits.slice(0, 1);
    }
    return nodes.sort((a, b) => b.length - a.length || lowestId(a) - lowestId(b));
  }
}

/** Picks `count` CPUs from `free`, or returns null when there are not enough. */
export function pickCpus(
  topology: Topology,
  free: ReadonlySet<number>,
  count: number,
  preferredNuma?: number,
): number[] | null {
  const picker = new Picker(topology, free);
  if (count <= 0 || picker.remainingFree < count) return null;
  let remaining = picker.takeWholeUnits(bySocket, count);
  remaining = picker.takeWholeUnits(byNuma, remaining);
  for (const node of picker.numaOrder(remaining, preferredNuma)) {
    if (remaining === 0) break;
    remaining = picker.takeCoresThenThreads(node, remaining);
  }
  return remaining === 0 ? picker.taken.sort((a, b) => a - b) : null;
}
