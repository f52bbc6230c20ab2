// Runs every benchmark, one process each, in order: `npm run bench` (full) or `npm run bench -- --quick`.
// Names as arguments run only those (`npm run bench -- --quick suppress`). Each benchmark's JSON lines are passed
// through; the closing RESULT lines are repeated in a summary. Timings never fail the run: the exit code is 1
// only when a benchmark crashed (non-zero exit) or hung past its time limit.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseResultLine, type BenchResult } from './lib/result-line.ts';

interface Benchmark {
  readonly name: string;
  readonly file: string;
  /** Hang guard, full mode; quick mode gets a fifth of it (at least a minute). */
  readonly limitMs: number;
}

const benchmarks: readonly Benchmark[] = [
  { name: 'planner', file: 'planner.bench.ts', limitMs: 180_000 },
  { name: 'controller', file: 'controller.bench.ts', limitMs: 720_000 },
  { name: 'agent-apply', file: 'agent-apply.bench.ts', limitMs: 300_000 },
  { name: 'suppress', file: 'suppress.bench.ts', limitMs: 300_000 },
  { name: 'agent-overhead', file: 'agent-overhead.bench.ts', limitMs: 300_000 },
  { name: 'new-container', file: 'new-container.bench.ts', limitMs: 180_000 },
  { name: 'import-rss', file: 'import-rss.bench.ts', limitMs: 300_000 },
  { name: 'cli-startup', file: 'cli-startup.bench.ts', limitMs: 900_000 },
  { name: 'isolation', file: 'isolation.bench.ts', limitMs: 330_000 },
];

interface Outcome {
  readonly name: string;
  readonly seconds: number;
  readonly results: BenchResult[];
  /** Why the benchmark failed; undefined when it exited 0. */
  readonly failure: string | undefined;
}

async function runOne(bench: Benchmark, quick: boolean): Promise<Outcome> {
  const file = fileURLToPath(new URL(bench.file, import.meta.url));
  const start = performance.now();
  const child = spawn(process.execPath, [file, ...(quick ? ['--quick'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const results: BenchResult[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', line => {
    process.stdout.write(`${line}\n`);
    const parsed = parseResultLine(line);
    if (parsed) results.push(parsed);
  });
  const limitMs = quick ? Math.max(60_000, bench.limitMs / 5) : bench.limitMs;
  const guardState = { timedOut: false };
  const guard = setTimeout(() => {
    guardState.timedOut = true;
    child.kill('SIGTERM'); // benchmarks remove their cgroup sandboxes on SIGTERM
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, limitMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(guard);
  const seconds = (performance.now() - start) / 1000;
  const failure = guardState.timedOut
    ? `no result within ${limitMs / 1000} s`
    : code === 0
      ? undefined
      : `exited with ${code === null ? `signal ${signal}` : `code ${code}`}`;
  return { name: bench.name, seconds, results, failure };
}

function selectBenchmarks(names: readonly string[]): Benchmark[] {
  const unknown = names.filter(name => !benchmarks.some(b => b.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark(s) ${unknown.join(', ')}; known: ${benchmarks.map(b => b.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  return names.length === 0 ? [...benchmarks] : benchmarks.filter(b => names.includes(b.name));
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const selected = selectBenchmarks(args.filter(arg => !arg.startsWith('--')));
const outcomes: Outcome[] = [];
const start = performance.now();
for (const bench of selected) {
  process.stderr.write(`\n== bench ${bench.name}${quick ? ' (quick)' : ''}\n`);
  outcomes.push(await runOne(bench, quick));
}
process.stdout.write(
  `\n== summary (${quick ? 'quick' : 'full'}, ${((performance.now() - start) / 1000).toFixed(0)} s)\n`,
);
for (const outcome of outcomes) {
  const status = outcome.failure === undefined ? 'ok' : `FAILED: ${outcome.failure}`;
  process.stdout.write(`${outcome.name}: ${status} (${outcome.seconds.toFixed(1)} s)\n`);
  for (const r of outcome.results) process.stdout.write(`  ${r.line}\n`);
}
if (outcomes.some(o => o.failure !== undefined)) process.exitCode = 1;
