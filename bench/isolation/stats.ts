// Percentiles of latency samples and per-setting summaries over repeated runs.
import { quantile } from '../harness.ts';

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly n: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted.at(-1) ?? NaN,
    n: sorted.length,
  };
}

export function median(values: readonly number[]): number {
  return quantile(
    [...values].filter(v => !Number.isNaN(v)).sort((a, b) => a - b),
    0.5,
  );
}

/** `points` values of the pooled distribution at evenly spaced quantiles (for a CDF plot). */
export function cdfPoints(values: readonly number[], points = 200): { q: number; value: number }[] {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const qs = Array.from({ length: points }, (_, i) => i / (points - 1));
  // The tail decides p99: add the upper quantiles densely.
  for (const q of [0.99, 0.995, 0.999, 0.9995]) qs.push(q);
  return [...new Set(qs)]
    .sort((a, b) => a - b)
    .map(q => ({ q, value: quantile(sorted, Math.min(q, 1 - 1e-12)) }));
}

/** Per-run sample lines "s a b" → [a, b] in microseconds. */
export function sampleColumns(lines: readonly string[]): { a: number[]; b: number[] } {
  const a: number[] = [];
  const b: number[] = [];
  for (const line of lines) {
    if (!line.startsWith('s ')) continue;
    const [, x, y] = line.split(' ');
    a.push(Number(x) / 1000);
    if (y !== undefined) b.push(Number(y) / 1000);
  }
  return { a, b };
}

export function fieldOf(lines: readonly string[], key: string): number[] | undefined {
  const line = lines.find(l => l.startsWith(`${key} `));
  return line?.split(' ').slice(1).map(Number);
}
