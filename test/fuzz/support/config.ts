// Run counts and seeds for the fuzz suite. CI runs every entry point with a fixed seed and its default count
// (at least 10 000 cases); NODEQOS_FUZZ_RUNS and NODEQOS_FUZZ_SEED run longer or explore other inputs:
//   NODEQOS_FUZZ_RUNS=200000 NODEQOS_FUZZ_SEED=7 scripts/run test test/fuzz
import fc from 'fast-check';

/** The seed every entry point derives its own from, so adding an entry point does not reshuffle the others. */
export const defaultBaseSeed = 20261123;
export const minimumCiRuns = 10_000;

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name}=${JSON.stringify(text)}: expected a positive integer`);
  return value;
}

function hashName(name: string): number {
  let hash = 0;
  for (const char of name) hash = (Math.imul(hash, 31) + (char.codePointAt(0) ?? 0)) | 0;
  return hash;
}

export interface FuzzSettings {
  readonly numRuns: number;
  readonly seed: number;
  /** Test timeout: generous per case, so a longer run via NODEQOS_FUZZ_RUNS does not time out. */
  readonly timeoutMs: number;
}

/**
 * Settings for one entry point. `defaultRuns` is its CI count (>= 10 000); `perCaseMs` its expected cost per case,
 * which only sizes the timeout.
 */
export function fuzzSettings(
  entryPoint: string,
  defaultRuns: number,
  perCaseMs: number,
  env: NodeJS.ProcessEnv = process.env,
): FuzzSettings {
  if (defaultRuns < minimumCiRuns)
    throw new Error(`${entryPoint}: CI runs at least ${minimumCiRuns} cases, not ${defaultRuns}`);
  const numRuns = positiveInteger('NODEQOS_FUZZ_RUNS', env.NODEQOS_FUZZ_RUNS) ?? defaultRuns;
  const base = positiveInteger('NODEQOS_FUZZ_SEED', env.NODEQOS_FUZZ_SEED) ?? defaultBaseSeed;
  return {
    numRuns,
    seed: (base ^ hashName(entryPoint)) | 0,
    timeoutMs: Math.max(60_000, Math.ceil(numRuns * perCaseMs * 4)),
  };
}

const maxShownChars = 4000;
const maxShownDepth = 8;

/** A bounded preview of a case: fast-check's own stringify recurses through 10 000-level values and overflows. */
export function preview(value: unknown, depth = 0): string {
  if (typeof value === 'string')
    return value.length > 200
      ? `${JSON.stringify(value.slice(0, 200))}...(${value.length} chars)`
      : JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' || value === null) return Object.is(value, -0) ? '-0' : String(value);
  if (depth >= maxShownDepth) return Array.isArray(value) ? '[...]' : '{...}';
  if (Array.isArray(value))
    return `[${value
      .slice(0, 20)
      .map(v => preview(v, depth + 1))
      .join(',')}]`;
  const entries = Object.entries(value).slice(0, 40);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${preview(v, depth + 1)}`).join(',')}}`;
}

/**
 * Throws with the seed, the replay path, the error (with its first stack frames) and the counterexample cut to 4000
 * characters: a case may hold a 10 MB string or a 10 000-level array.
 */
function throwIfFailed<Ts>(details: fc.RunDetails<Ts>): void {
  if (!details.failed) return;
  const shown = preview(details.counterexample);
  const cause = details.errorInstance;
  const message =
    cause instanceof Error
      ? `${cause.name}: ${cause.message}\n${(cause.stack ?? '').split('\n').slice(1, 7).join('\n')}`
      : String(cause);
  throw new Error(
    [
      `fuzz case failed after ${details.numRuns} runs (seed ${details.seed}, path "${details.counterexamplePath ?? ''}")`,
      `error: ${message.slice(0, maxShownChars)}`,
      `input: ${shown.length > maxShownChars ? `${shown.slice(0, maxShownChars)}... (${shown.length} chars)` : shown}`,
    ].join('\n'),
    { cause },
  );
}

/** The entry point's seed and run count; no shrinking (endOnFailure): shrinking 10 MB values outlasts the suite. */
function parameters<Ts>(settings: FuzzSettings, examples: Ts[]): fc.Parameters<Ts> {
  return { numRuns: settings.numRuns, seed: settings.seed, examples, endOnFailure: true };
}

/** Runs a property with the entry point's settings; `examples` run first on every run. */
export function fuzz<Ts>(property: fc.IProperty<Ts>, settings: FuzzSettings, examples: Ts[] = []): void {
  throwIfFailed(fc.check(property, parameters(settings, examples)));
}

export async function fuzzAsync<Ts>(
  property: fc.IAsyncProperty<Ts>,
  settings: FuzzSettings,
  examples: Ts[] = [],
): Promise<void> {
  throwIfFailed(await fc.check(property, parameters(settings, examples)));
}
