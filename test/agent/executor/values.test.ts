// Pure parts of the executor: file formats and range checks, the v1 -> v2 formulas, and leveled ordering.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCpuList, parseCpuList } from '../../../src/api/cpulist.ts';
import {
  bytesCodec,
  cpuListCodec,
  cpuMaxCodec,
  deviceRatesCodec,
  ioMaxCodec,
  quotaCodec,
  weightCodec,
} from '../../../src/agent/mechanisms/core/codecs.ts';
import { blkioWeightToIoWeight, sharesToWeight } from '../../../src/agent/mechanisms/core/conversions.ts';
import {
  clampToParent,
  cpusetRule,
  leveledWrites,
  type LevelNode,
} from '../../../src/agent/mechanisms/core/leveled.ts';

describe('conversions', () => {
  it("shares -> cpu.weight uses kubelet's linear map", () => {
    expect([2, 1024, 2048, 262143, 262144].map(sharesToWeight)).toEqual([1, 39, 79, 9999, 10000]);
    expect(() => sharesToWeight(1)).toThrow(RangeError);
    expect(() => sharesToWeight(262145)).toThrow(RangeError);
  });

  it("blkio.weight -> io.weight uses runc's 1 + (w - 10) * 9999 / 990", () => {
    expect([10, 100, 500, 1000].map(blkioWeightToIoWeight)).toEqual([1, 910, 4950, 10000]);
    expect(() => blkioWeightToIoWeight(9)).toThrow(RangeError);
  });

  it('both stay inside the kernel ranges for every input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 262144 }), shares => {
        const weight = sharesToWeight(shares);
        expect(weight >= 1 && weight <= 10000).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('codecs', () => {
  it('quota: -1 or 1000..2^44-1', () => {
    expect([-1, 1000, 2 ** 44 - 1].map(v => quotaCodec.invalid(v))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect([-2, 0, 999, 2 ** 44].every(v => quotaCodec.invalid(v) !== undefined)).toBe(true);
  });

  it('cpu.max parses and prints "max" as -1', () => {
    expect(cpuMaxCodec.parse('max 100000\n')).toEqual({ quotaUs: -1, periodUs: 100000 });
    expect(cpuMaxCodec.show({ quotaUs: 50000, periodUs: 100000 })).toBe('50000 100000');
    expect(cpuMaxCodec.invalid({ quotaUs: 50000, periodUs: 999 })).toMatch(/period/);
  });

  it('cpu lists compare canonically and must not be empty', () => {
    expect(cpuListCodec.equal('0,1,2,3', '0-3')).toBe(true);
    expect(cpuListCodec.lines('0,1', '0-1', false)).toEqual([]);
    expect(cpuListCodec.invalid('')).toMatch(/empty/);
    expect(cpuListCodec.invalid('0-99999')).toBeDefined();
  });

  it('memory: v1 unlimited reads as null, values are page-aligned, "max" writes on v2', () => {
    const v1 = bytesCodec('-1', 4096);
    expect(v1.parse('9223372036854771712\n')).toBeNull();
    expect(v1.lines(null, 4097, false)).toEqual(['4096']);
    expect(v1.equal(4096, 4100)).toBe(true);
    expect(v1.lines(4096, null, false)).toEqual(['-1']);
    expect(bytesCodec('max', 4096).lines(0, null, false)).toEqual(['max']);
  });

  it('weights read "N" and "default N"', () => {
    expect(weightCodec(1, 10000, 'default').parse('default 100\n8:0 200\n')).toBe(100);
    expect(weightCodec(1, 1000, 'plain').parse('500\n')).toBe(500);
    expect(weightCodec(1, 10000, 'default').lines(100, 200, false)).toEqual(['default 200']);
  });

  it('v1 throttles write one line per changed device; 0 removes', () => {
    const codec = deviceRatesCodec(2 ** 32 - 1);
    expect(codec.parse('8:0 100\n8:16 5\n')).toEqual({ '8:0': 100, '8:16': 5 });
    expect(codec.lines({ '8:0': 100, '8:16': 5 }, { '8:0': 200 }, false)).toEqual(['8:0 200', '8:16 0']);
    expect(codec.lines({ '8:0': 200 }, { '8:0': 200 }, true)).toEqual(['8:0 200']);
    expect(codec.invalid({ '8:0': 2 ** 32 })).toMatch(/outside/);
  });

  it('io.max: "max" is no limit; values must be > 1; one line per device', () => {
    const current = ioMaxCodec.parse('8:0 rbps=1000 wbps=max riops=max wiops=max\n');
    expect(current).toEqual({ '8:0': { rbps: 1000, wbps: null, riops: null, wiops: null } });
    expect(
      ioMaxCodec.lines(current, { '8:16': { rbps: null, wbps: 5, riops: null, wiops: null } }, false),
    ).toEqual(['8:0 rbps=max wbps=max riops=max wiops=max', '8:16 rbps=max wbps=5 riops=max wiops=max']);
    expect(ioMaxCodec.invalid({ '8:0': { rbps: 1, wbps: null, riops: null, wiops: null } })).toMatch(
      /rbps=1/,
    );
    expect(ioMaxCodec.invalid({ '8:0': { rbps: null, wbps: null, riops: 2 ** 32, wiops: null } })).toMatch(
      /riops/,
    );
  });
});

describe('leveled writes', () => {
  const node = (id: string, current: string, desired: string): LevelNode<string> => ({
    id,
    current,
    desired,
    force: false,
  });

  it('never lets a child leave its parent or a parent drop below a child, for any cpusets', () => {
    const cpuSet = fc
      .uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 8 })
      .map(formatCpuList);
    fc.assert(
      fc.property(
        cpuSet,
        cpuSet,
        fc.array(fc.tuple(cpuSet, cpuSet), { minLength: 1, maxLength: 3 }),
        (podNow, podWant, children) => {
          // Start consistent: every child within the pod; targets: every child within the pod's target.
          const within = (inner: string, outer: string): string =>
            formatCpuList(parseCpuList(inner).filter(c => parseCpuList(outer).includes(c))) || outer;
          const kids = children.map(([now, want], i) =>
            node(`c${i}`, within(now, podNow), within(want, podWant)),
          );
          const state = new Map<string, string>([['', podNow], ...kids.map(k => [k.id, k.current] as const)]);
          const subset = (a: string, b: string): boolean =>
            parseCpuList(a).every(c => parseCpuList(b).includes(c));
          for (const write of leveledWrites([[node('', podNow, podWant)], kids], cpusetRule)) {
            state.set(write.node.id, write.value);
            const pod = state.get('') ?? '';
            for (const kid of kids) expect(subset(state.get(kid.id) ?? '', pod)).toBe(true);
          }
          expect(state.get('')).toBe(podWant);
          for (const kid of kids) expect(state.get(kid.id)).toBe(kid.desired);
        },
      ),
      { seed: 11, numRuns: 400 },
    );
  });

  it('rewrites an equal value only when forced', () => {
    expect(leveledWrites([[node('', '0-1', '0-1')]], cpusetRule)).toEqual([]);
    expect(
      leveledWrites([[{ id: '', current: '0-1', desired: '0-1', force: true }]], cpusetRule).map(w => w.pass),
    ).toEqual([2]);
  });

  it('clamps a child quota to its parent in the child period; unlimited children stay unlimited', () => {
    expect(
      clampToParent({ quotaUs: 300000, periodUs: 100000 }, { quotaUs: 100000, periodUs: 100000 }),
    ).toEqual({ quotaUs: 100000, periodUs: 100000 });
    expect(
      clampToParent({ quotaUs: 300000, periodUs: 50000 }, { quotaUs: 100000, periodUs: 100000 }),
    ).toEqual({ quotaUs: 50000, periodUs: 50000 });
    expect(
      clampToParent({ quotaUs: -1, periodUs: 100000 }, { quotaUs: 100000, periodUs: 100000 }).quotaUs,
    ).toBe(-1);
    expect(
      clampToParent({ quotaUs: 50000, periodUs: 100000 }, { quotaUs: -1, periodUs: 100000 }).quotaUs,
    ).toBe(50000);
  });
});
