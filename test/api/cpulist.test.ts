import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalCpuList, formatCpuList, parseCpuList } from '../../src/api/cpulist.ts';

describe('cpu lists', () => {
  it('parses and canonicalises', () => {
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(canonicalCpuList('3,1,2,8,9,0')).toBe('0-3,8-9');
    expect(formatCpuList([])).toBe('');
    expect(parseCpuList('')).toEqual([]);
  });

  it('rejects malformed lists and reversed or huge ranges', () => {
    for (const bad of ['a', '1-', '3-1', '0,,1', '1-99999', '../0'])
      expect(() => parseCpuList(bad)).toThrow();
  });

  it('round-trips any set of CPUs', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 511 }), { maxLength: 64 }), cpus => {
        expect(parseCpuList(formatCpuList(cpus))).toEqual([...cpus].sort((a, b) => a - b));
      }),
      { seed: 1, numRuns: 500 },
    );
  });
});
