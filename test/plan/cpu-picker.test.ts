import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flatTopology, type Topology } from '../../src/api/topology.ts';
import { pickCpus } from '../../src/plan/cpu-picker.ts';
import { twoNumaTopology } from './fixtures.ts';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const freeExcept = (total: number, taken: number[]): Set<number> =>
  new Set(range(0, total - 1).filter(c => !taken.includes(c)));

/** sockets x cores x threads, sibling threads numbered next to each other; one NUMA node per socket. */
function machine(sockets: number, cores: number, threads: number, coresPerL3?: number): Topology {
  const cpus: Topology['cpus'] = [];
  for (let s = 0; s < sockets; s++)
    for (let c = 0; c < cores; c++)
      for (let t = 0; t < threads; t++) {
        const core = s * cores + c;
        cpus.push({
          id: core * threads + t,
          core,
          socket: s,
          numa: s,
          ...(coresPerL3 === undefined ? {} : { l3: Math.floor(core / coresPerL3) }),
        });
      }
  return { cpus };
}

const coreOf = (topology: Topology, cpu: number): number => topology.cpus.find(c => c.id === cpu)?.core ?? -1;

describe('pickCpus', () => {
  it('seed 001 8.6: 16 CPUs with 0-3 taken by other LSE pods -> a 2-CPU LSE pod gets [4,5]', () => {
    expect(pickCpus(flatTopology(16), freeExcept(16, [0, 1, 2, 3]), 2)).toEqual([4, 5]);
  });

  it('prefers the NUMA node with the fewest free CPUs that still fits the whole request', () => {
    const topo = twoNumaTopology(8);
    // NUMA 0 has 4 free (4-7), NUMA 1 has 8: a 2-CPU request packs into NUMA 0.
    expect(pickCpus(topo, freeExcept(16, [0, 1, 2, 3]), 2)).toEqual([4, 5]);
    // 5 CPUs do not fit NUMA 0 any more: NUMA 1.
    expect(pickCpus(topo, freeExcept(16, [0, 1, 2, 3]), 5)).toEqual([8, 9, 10, 11, 12]);
  });

  it('takes whole NUMA nodes when the request needs them, then packs the rest', () => {
    expect(pickCpus(twoNumaTopology(8), freeExcept(16, []), 10)).toEqual(range(0, 9));
  });

  it('crosses NUMA nodes only when no single node fits, packing the fullest node first (kubelet order)', () => {
    const topo = twoNumaTopology(8);
    const free = freeExcept(16, [0, 1, 2, 8, 9, 10, 11, 12]); // NUMA0: 5 free, NUMA1: 3 free
    expect(pickCpus(topo, free, 7)).toEqual([3, 4, 5, 6, 13, 14, 15]);
  });

  it('takes whole physical cores (both hyperthreads) before single threads, filling used cores first', () => {
    const smt = twoNumaTopology(8, 2); // cores are (0,1), (2,3), ...
    expect(pickCpus(smt, freeExcept(16, []), 2)).toEqual([0, 1]);
    // CPU 0 taken: core (0,1) is half used; a 3-CPU request takes full core (2,3) then thread 1.
    expect(pickCpus(smt, freeExcept(16, [0]), 3)).toEqual([1, 2, 3]);
  });

  it('issue 15: 6 CPUs on two SMT sockets, none of which holds them, get whole cores from both sockets', () => {
    const topo = machine(2, 3, 2); // socket 0: cores (0,1) (2,3) (4,5); socket 1: (6,7) (8,9) (10,11)
    // CPU 0 is the system's, 2 another pod's, 6 another pod's: socket 0 has 4 free, socket 1 has 5.
    const cpus = pickCpus(topo, freeExcept(12, [0, 2, 6]), 6);
    expect(cpus).toEqual([4, 5, 8, 9, 10, 11]);
  });

  it('issue 15: a node that fits only with split cores loses to one that fits with whole cores', () => {
    const topo = machine(2, 4, 2); // 16 CPUs, 8 per socket
    // Socket 0: 6 free but CPUs 1 and 3 share cores with used 0 and 2. Socket 1: all free.
    expect(pickCpus(topo, freeExcept(16, [0, 2]), 6)).toEqual([8, 9, 10, 11, 12, 13]);
  });

  it('works on 4-thread cores: whole cores first, across nodes', () => {
    const topo = machine(2, 2, 4); // cores of 4 threads, 8 CPUs per socket
    // socket 0: core 0 half used, core 1 free; socket 1: core 2 has one used thread, core 3 free.
    const cpus = pickCpus(topo, freeExcept(16, [0, 1, 8]), 8);
    expect(cpus).toEqual([4, 5, 6, 7, 12, 13, 14, 15]);
  });

  it('issue 15: a NUMA preference is applied before any take, not after whole sockets', () => {
    const topo = machine(2, 6, 1); // 6 CPUs per socket
    const cpus = pickCpus(topo, freeExcept(12, []), 8, 1);
    expect(cpus?.filter(cpu => cpu >= 6)).toHaveLength(6);
    expect(cpus).toEqual([0, 1, 6, 7, 8, 9, 10, 11]);
  });

  it('honours a preferred NUMA node when it fits', () => {
    expect(pickCpus(twoNumaTopology(8), freeExcept(16, [0, 1, 2, 3]), 2, 1)).toEqual([8, 9]);
  });

  it('prefers whole L3 groups after NUMA, and the one group that holds the rest', () => {
    const topo = machine(1, 8, 2, 2); // 4 L3 groups of 2 cores (4 CPUs): 0-3, 4-7, 8-11, 12-15
    // Group 0-3 has one CPU used; group 4-7 has one used; a 4-CPU request takes whole group 8-11.
    expect(pickCpus(topo, freeExcept(16, [0, 4]), 4)).toEqual([8, 9, 10, 11]);
    // A 2-CPU request stays inside one group, the tightest one holding a whole core: 4-7 (3 free).
    const two = pickCpus(topo, freeExcept(16, [0, 4]), 2);
    expect(two).toEqual([2, 3]);
    // 6 CPUs: one whole group, then a whole core of the next group.
    expect(pickCpus(topo, freeExcept(16, []), 6)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('returns null when there are not enough free CPUs', () => {
    expect(pickCpus(flatTopology(4), freeExcept(4, [0, 1]), 3)).toBeNull();
    expect(pickCpus(flatTopology(4), freeExcept(4, []), 0)).toBeNull();
  });
});

const machineArb = fc
  .record({
    sockets: fc.integer({ min: 1, max: 3 }),
    cores: fc.integer({ min: 1, max: 6 }),
    threads: fc.constantFrom(1, 2, 4),
    coresPerL3: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  })
  .map(m => machine(m.sockets, m.cores, m.threads, m.coresPerL3))
  .chain(topology => {
    const ids = topology.cpus.map(c => c.id);
    return fc.record({
      topology: fc.constant(topology),
      used: fc.subarray(ids),
      count: fc.integer({ min: 1, max: ids.length }),
      preferred: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      order: fc.shuffledSubarray(ids, { minLength: ids.length }),
    });
  });

describe('pickCpus properties', () => {
  it('never takes a core-sharing thread while a whole free core of the candidates stays unused', () => {
    fc.assert(
      fc.property(machineArb, ({ topology, used, count }) => {
        const free = new Set(topology.cpus.map(c => c.id).filter(id => !used.includes(id)));
        const result = pickCpus(topology, free, count);
        if (free.size < count) {
          expect(result).toBeNull();
          return;
        }
        expect(result).toHaveLength(count);
        const chosen = new Set(result);
        const threads = topology.cpus.filter(c => c.core === 0).length;
        const coreCpus = (core: number): number[] =>
          topology.cpus.filter(c => c.core === core).map(c => c.id);
        const cores = [...new Set(topology.cpus.map(c => c.core))];
        const loose = (result ?? []).filter(
          cpu => !coreCpus(coreOf(topology, cpu)).every(c => chosen.has(c)),
        );
        const wholeUnused = cores.filter(core => coreCpus(core).every(c => free.has(c) && !chosen.has(c)));
        // Loose threads beyond the last partial core's worth would have fit a whole core instead.
        if (wholeUnused.length > 0) expect(loose.length).toBeLessThan(threads);
      }),
      { numRuns: 1500, seed: 15 },
    );
  });

  it('honours a NUMA preference that fits; picks only free CPUs, no duplicates', () => {
    fc.assert(
      fc.property(machineArb, ({ topology, used, count, preferred }) => {
        const free = new Set(topology.cpus.map(c => c.id).filter(id => !used.includes(id)));
        const result = pickCpus(topology, free, count, preferred) ?? [];
        expect(new Set(result).size).toBe(result.length);
        expect(result.every(cpu => free.has(cpu))).toBe(true);
        const inPreferred = topology.cpus.filter(c => c.numa === preferred && free.has(c.id)).map(c => c.id);
        if (preferred !== undefined && inPreferred.length >= count)
          expect(result.every(cpu => inPreferred.includes(cpu))).toBe(true);
        else if (preferred !== undefined && result.length === count)
          // A preference that does not fit still gets every free CPU of the preferred node.
          expect(inPreferred.every(cpu => result.includes(cpu))).toBe(true);
      }),
      { numRuns: 1500, seed: 1515 },
    );
  });

  it('is a function of the free set: the same CPUs whatever order the set was built in', () => {
    fc.assert(
      fc.property(machineArb, ({ topology, used, count, preferred, order }) => {
        const freeIds = order.filter(id => !used.includes(id));
        const a = pickCpus(topology, new Set(freeIds), count, preferred);
        const b = pickCpus(
          { cpus: [...topology.cpus].reverse() },
          new Set([...freeIds].reverse()),
          count,
          preferred,
        );
        expect(b).toEqual(a);
      }),
      { numRuns: 500, seed: 151515 },
    );
  });
});
