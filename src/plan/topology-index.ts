// A topology indexed for the CPU picker: every CPU's NUMA node, socket, physical core and L3 group as small
// integers, and the members of each unit, built once per topology object.
import type { Topology } from '../api/topology.ts';

export type Level = 'numa' | 'socket' | 'l3' | 'core';

export interface CpuUnits {
  readonly numa: number;
  readonly socket: number;
  /** A dense index over (socket, core id): Linux core ids repeat across sockets. */
  readonly core: number;
  /** -1 when the topology has no cache ids. */
  readonly l3: number;
}

export interface TopologyIndex {
  readonly units: ReadonlyMap<number, CpuUnits>;
  /** All CPUs of each unit, whatever is free: a unit is "whole" when all of them are free. */
  readonly members: Readonly<Record<Level, ReadonlyMap<number, readonly number[]>>>;
  /** The smallest unit of each level: a request below it cannot fill one whole. */
  readonly minSize: Readonly<Record<Level, number>>;
  readonly hasL3: boolean;
  /**
   * kubelet's rule for which level is the larger: when a NUMA node holds one or more sockets it is taken first,
   * when a socket holds several NUMA nodes (sub-NUMA clustering) the socket is.
   */
  readonly numaFirst: boolean;
}

const cache = new WeakMap<Topology, TopologyIndex>();

function addMember(map: Map<number, number[]>, key: number, cpu: number): void {
  const list = map.get(key);
  if (list) list.push(cpu);
  else map.set(key, [cpu]);
}

function build(topology: Topology): TopologyIndex {
  const coreIndex = new Map<string, number>();
  const sortedCores = [...new Set(topology.cpus.map(c => `${c.socket}:${c.core}`))].sort((a, b) => {
    const [as = 0, ac = 0] = a.split(':').map(Number);
    const [bs = 0, bc = 0] = b.split(':').map(Number);
    return as - bs || ac - bc;
  });
  sortedCores.forEach((key, index) => coreIndex.set(key, index));
  const hasL3 = topology.cpus.every(c => c.l3 !== undefined);
  const units = new Map<number, CpuUnits>();
  const members: Record<Level, Map<number, number[]>> = {
    numa: new Map(),
    socket: new Map(),
    l3: new Map(),
    core: new Map(),
  };
  for (const cpu of [...topology.cpus].sort((a, b) => a.id - b.id)) {
    const u: CpuUnits = {
      numa: cpu.numa,
      socket: cpu.socket,
      core: coreIndex.get(`${cpu.socket}:${cpu.core}`) ?? 0,
      l3: hasL3 ? (cpu.l3 ?? 0) : -1,
    };
    units.set(cpu.id, u);
    addMember(members.numa, u.numa, cpu.id);
    addMember(members.socket, u.socket, cpu.id);
    addMember(members.core, u.core, cpu.id);
    if (hasL3) addMember(members.l3, u.l3, cpu.id);
  }
  const smallest = (map: Map<number, number[]>): number =>
    map.size === 0 ? Infinity : Math.min(...[...map.values()].map(list => list.length));
  const minSize = {
    numa: smallest(members.numa),
    socket: smallest(members.socket),
    l3: smallest(members.l3),
    core: smallest(members.core),
  };
  return { units, members, minSize, hasL3, numaFirst: members.socket.size >= members.numa.size };
}

export function indexTopology(topology: Topology): TopologyIndex {
  let index = cache.get(topology);
  if (!index) {
    index = build(topology);
    cache.set(topology, index);
  }
  return index;
}
