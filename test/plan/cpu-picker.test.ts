import { describe, expect, it } from 'vitest';
import { flatTopology } from '../../src/api/topology.ts';
import { pickCpus } from '../../src/plan/cpu-picker.ts';
import { twoNumaTopology } from './fixtures.ts';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const freeExcept = (total: number, taken: number[]): Set<number> =>
  new Set(range(0, total - 1).filter(c => !taken.includes(c)));

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

  it('crosses NUMA nodes only when no single node fits, starting with the roomiest', () => {
    const topo = twoNumaTopology(8);
    const free = freeExcept(16, [0, 1, 2, 8, 9, 10, 11, 12]); // NUMA0: 5 free, NUMA1: 3 free
    expect(pickCpus(topo, free, 7)).toEqual([3, 4, 5, 6, 7, 13, 14]);
  });

  it('takes whole physical cores (both hyperthreads) before single threads, filling used cores first', () => {
    const smt = twoNumaTopology(8, 2); // cores are (0,1), (2,3), ...
    expect(pickCpus(smt, freeExcept(16, []), 2)).toEqual([0, 1]);
    // CPU 0 taken: core (0,1) is half used; a 3-CPU request takes full core (2,3) then thread 1.
    expect(pickCpus(smt, freeExcept(16, [0]), 3)).toEqual([1, 2, 3]);
  });

  it('honours a preferred NUMA node when it fits', () => {
    expect(pickCpus(twoNumaTopology(8), freeExcept(16, [0, 1, 2, 3]), 2, 1)).toEqual([8, 9]);
  });

  it('returns null when there are not enough free CPUs', () => {
    expect(pickCpus(flatTopology(4), freeExcept(4, [0, 1]), 3)).toBeNull();
    expect(pickCpus(flatTopology(4), freeExcept(4, []), 0)).toBeNull();
  });
});
