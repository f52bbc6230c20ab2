import { afterEach, describe, expect, it, vi } from 'vitest';
import { quantile, result, round, summarize } from '../../bench/harness.ts';
import { parseResultLine } from '../../bench/lib/result-line.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('quantile and summarize', () => {
  it('takes the nearest rank floor(q x n) of sorted values', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(sorted, 0.5)).toBe(6);
    expect(quantile(sorted, 0.9)).toBe(10);
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('sorts before ranking, and p99 of 100 runs or fewer is the largest value', () => {
    const values = Array.from({ length: 50 }, (_, i) => 50 - i);
    expect(summarize(values)).toEqual({ median: 26, p90: 46, p99: 50, min: 1, max: 50, runs: 50 });
    const many = Array.from({ length: 200 }, (_, i) => i);
    expect(summarize(many).p99).toBe(198);
  });
});

describe('result lines', () => {
  it('prints RESULT name k=v with rounded numbers, and the runner reads it back', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      lines.push(String(chunk));
      return true;
    });
    result('demo', { ms: 1234.5678, ratio: 0.123456789, small: 1.23456, kernel: 'yes', missing: NaN });
    expect(lines).toEqual(['RESULT demo ms=1234.6 ratio=0.12346 small=1.235 kernel=yes missing=NaN\n']);
    expect(parseResultLine(lines[0] ?? '')).toEqual({
      name: 'demo',
      figures: { ms: 1234.6, ratio: 0.12346, small: 1.235, kernel: 'yes', missing: 'NaN' },
      line: 'RESULT demo ms=1234.6 ratio=0.12346 small=1.235 kernel=yes missing=NaN',
    });
  });

  it('ignores lines that are not result lines', () => {
    expect(parseResultLine('{"bench":"x"}')).toBeUndefined();
    expect(parseResultLine('RESULT')).toBeUndefined();
    expect(parseResultLine('RESULT name')).toEqual({ name: 'name', figures: {}, line: 'RESULT name' });
  });

  it('rounds to 1 decimal from 100, 3 from 1, 5 below', () => {
    expect([round(123.456), round(12.34567), round(0.0123456), round(Infinity)]).toEqual([
      123.5,
      12.346,
      0.01235,
      Infinity,
    ]);
  });
});
