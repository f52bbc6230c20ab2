// Benchmark harness: repeated runs, medians, JSON lines, and the closing `RESULT name=value ...` line.
export interface Sample {
  readonly median: number;
  readonly p90: number;
  /** Nearest rank floor(0.99 x n): with 100 runs or fewer this is the largest value. */
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** The value at rank floor(q x n) of the sorted values (nearest rank, no interpolation); NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.floor(q * sorted.length));
  return sorted[index] ?? NaN;
}

export function summarize(values: readonly number[]): Sample {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    min: sorted[0] ?? NaN,
    max: sorted.at(-1) ?? NaN,
    runs: values.length,
  };
}

/** Times `fn` (milliseconds) `runs` times after `warmup` untimed runs. */
export async function timeIt(fn: () => unknown, runs: number, warmup = 1): Promise<Sample> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarize(times);
}

export function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

export function result(name: string, figures: Record<string, number | string>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : v}`);
  process.stdout.write(`RESULT ${name} ${parts.join(' ')}\n`);
}

export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 1 : magnitude >= 1 ? 3 : 5;
  return Number(value.toFixed(digits));
}

export const quick = process.argv.includes('--quick');

/** The number given as `--<name>=<n>`, or undefined when the flag is absent. */
export function numberOption(name: string): number | undefined {
  const flag = process.argv.find(arg => arg.startsWith(`--${name}=`));
  if (flag === undefined) return undefined;
  const value = Number(flag.slice(name.length + 3));
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${flag}: expected a positive whole number`);
  return value;
}

/** `--only=a,b` runs only the named parts of a benchmark (all parts without the flag). */
export function selected(part: string): boolean {
  const flag = process.argv.find(arg => arg.startsWith('--only='));
  return flag === undefined || flag.slice('--only='.length).split(',').includes(part);
}
