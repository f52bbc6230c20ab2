import { describe, expect, it } from 'vitest';
import { memoryVerdict, workingSet } from '../../../src/agent/eviction/memory-threshold.ts';

const Gi = 1024 ** 3;
const settings = {
  enabled: true,
  thresholdPercent: 70,
  lowerPercent: 68,
  minReclaimBytes: 0,
  coolDownSeconds: 30,
  intervalSeconds: 1,
};

describe('memory threshold arithmetic', () => {
  it('working set is usage minus inactive file, never negative', () => {
    expect(workingSet(10 * Gi, 3 * Gi)).toBe(7 * Gi);
    expect(workingSet(1 * Gi, 3 * Gi)).toBe(0);
  });

  it('releases down to the lower bound: 64 GiB at 72 % with 70/68 releases 4 % (2.56 GiB)', () => {
    const v = memoryVerdict({ workingSetBytes: 0.72 * 64 * Gi, capacityBytes: 64 * Gi }, settings);
    expect(v.over).toBe(true);
    expect(v.percent).toBeCloseTo(72, 9);
    expect(v.lowerBytes).toBe(Math.floor(0.68 * 64 * Gi));
    expect(v.targetBytes).toBe(0.72 * 64 * Gi - Math.floor(0.68 * 64 * Gi));
    expect(v.targetBytes / Gi).toBeCloseTo(2.56, 2);
  });

  it('starts at the threshold itself, not above it; below it there is nothing to release', () => {
    const capacity = 100 * Gi;
    expect(memoryVerdict({ workingSetBytes: 70 * Gi, capacityBytes: capacity }, settings).over).toBe(true);
    const below = memoryVerdict({ workingSetBytes: 70 * Gi - 1, capacityBytes: capacity }, settings);
    expect(below.over).toBe(false);
    expect(below.targetBytes).toBe(0);
  });

  it('never releases less than the minimum reclaim once a round starts', () => {
    const v = memoryVerdict(
      { workingSetBytes: 70 * Gi, capacityBytes: 100 * Gi },
      { ...settings, minReclaimBytes: 5 * Gi },
    );
    expect(v.targetBytes).toBe(5 * Gi);
    const band = memoryVerdict(
      { workingSetBytes: 90 * Gi, capacityBytes: 100 * Gi },
      { ...settings, minReclaimBytes: 5 * Gi },
    );
    expect(band.targetBytes).toBe(22 * Gi);
  });

  it('a node with no known capacity never evicts', () => {
    expect(memoryVerdict({ workingSetBytes: Gi, capacityBytes: 0 }, settings)).toMatchObject({
      over: false,
      targetBytes: 0,
    });
  });
});
