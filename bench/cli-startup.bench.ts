// CLI start-up as users see it: whole processes, wall time from spawn to exit and peak RSS, median over several
// runs. What users run is the compiled CLI (dist/, built by `npm run build`; scripts/run and bin/ run it); the same
// commands from the TypeScript sources (type stripping, what every call cost before) and a bare `node -e 0` run
// side by side as the baseline and the floor. Goals (issue 16): validate and explain <= 300 ms, plan of the README
// example <= 400 ms and <= 100 MB.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevServer } from '../src/devserver/index.ts';
import { emit, quick, result, summarize, type Sample } from './harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/**
 * Preloaded into every measured process (a data: URL, so the hook itself costs no file and no type stripping): at
 * exit it writes its peak RSS (KiB) and CPU time (us) for the parent, which cannot read a child's rusage.
 */
const usageHook =
  'data:text/javascript,' +
  encodeURIComponent(
    "import { writeFileSync } from 'node:fs';" +
      "process.on('exit', () => { const u = process.resourceUsage();" +
      ' writeFileSync(process.env.NODEQOS_USAGE_FILE, JSON.stringify([u.maxRSS, u.userCPUTime + u.systemCPUTime])); });',
  );
const runs = quick ? 3 : 15;
/**
 * `--before=<dir>`: also time the CLI of another checkout's sources (for example the commit before this work:
 * `git archive <commit> | tar -x -C <dir>` and a node_modules symlink), as the before figure.
 */
const before = process.argv.find(arg => arg.startsWith('--before='))?.slice('--before='.length);

// Build dist/ exactly as users get it (the same freshness check as scripts/run).
execFileSync('bash', ['-c', 'source scripts/node24.sh && source scripts/dist.sh && nodeqos_cli'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const compiled = join(root, 'dist', 'cli', 'main.js');
const sources = join(root, 'src', 'cli', 'main.ts');
if (!existsSync(compiled)) throw new Error(`${compiled} missing after the build`);

interface Run {
  readonly ms: number;
  readonly cpuMs: number;
  readonly rssMb: number;
}

/**
 * One process: wall time (spawn to exit) and, from the preloaded hook, its peak RSS and CPU time. On a busy
 * machine the wall time mostly measures the wait for a core; the CPU time is what the process itself cost.
 */
async function runOnce(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'nodeqos-startup-'));
  const usageFile = join(dir, 'usage');
  try {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', usageHook, ...args], {
      cwd: root,
      env: { ...env, NODEQOS_USAGE_FILE: usageFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`);
    const [maxRssKib, cpuUs] = JSON.parse(readFileSync(usageFile, 'utf8')) as [number, number];
    return { ms, cpuMs: cpuUs / 1000, rssMb: maxRssKib / 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Figures {
  readonly ms: Sample;
  readonly cpu: Sample;
  readonly rss: Sample;
}

/** Interleaves the cases run by run, so a change in the machine's load hits each of them alike. */
async function measure(
  cases: Record<string, readonly string[]>,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, Figures>> {
  const times: Record<string, Run[]> = Object.fromEntries(Object.keys(cases).map(k => [k, []]));
  for (const [, args] of Object.entries(cases)) await runOnce(args, env); // warm the page cache
  for (let i = 0; i < runs; i++)
    for (const [name, args] of Object.entries(cases)) times[name]?.push(await runOnce(args, env));
  return Object.fromEntries(
    Object.entries(times).map(([name, list]) => [
      name,
      {
        ms: summarize(list.map(r => r.ms)),
        cpu: summarize(list.map(r => r.cpuMs)),
        rss: summarize(list.map(r => r.rssMb)),
      },
    ]),
  );
}

const planArgs = [
  'plan',
  '--policy',
  'examples/policies',
  '--node',
  'examples/node.yaml',
  '--pods',
  'examples/pods.yaml',
  '--topology',
  'examples/topology-2numa.json',
];
const validateArgs = ['validate', 'examples/policies/latency-critical.yaml'];

// explain needs a cluster: the embedded API server holding the README example's plan.
const server = await startDevServer();
const dir = mkdtempSync(join(tmpdir(), 'nodeqos-startup-kube-'));
try {
  const kubeconfig = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
  const plan = JSON.parse(
    execFileSync(process.execPath, [compiled, ...planArgs, '-o', 'json'], { cwd: root, encoding: 'utf8' }),
  ) as Record<string, unknown>;
  const response = await fetch(`${server.url}/apis/nodeqos.io/v1alpha1/nodeisolationplans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...plan, metadata: { name: 'node-a' } }),
  });
  if (!response.ok) throw new Error(`creating the plan: HTTP ${response.status}: ${await response.text()}`);
  const explainArgs = ['explain', 'node-a'];
  const env = { ...process.env, KUBECONFIG: kubeconfig };

  const cases: Record<string, readonly string[]> = {
    node_floor: ['-e', '0'],
    validate: [compiled, ...validateArgs],
    explain: [compiled, ...explainArgs],
    plan: [compiled, ...planArgs],
    validate_src: [sources, ...validateArgs],
    explain_src: [sources, ...explainArgs],
    plan_src: [sources, ...planArgs],
    ...(before === undefined
      ? {}
      : {
          validate_before: [join(before, 'src', 'cli', 'main.ts'), ...validateArgs],
          explain_before: [join(before, 'src', 'cli', 'main.ts'), ...explainArgs],
          plan_before: [join(before, 'src', 'cli', 'main.ts'), ...planArgs],
        }),
  };
  const figures = await measure(cases, env);
  for (const [name, { ms, cpu, rss }] of Object.entries(figures))
    emit({
      bench: 'cli-startup',
      case: name,
      unit: 'ms',
      ...ms,
      cpu_ms_median: cpu.median,
      rss_mb_median: rss.median,
      rss_mb_max: rss.max,
    });
  const get = (name: string): Figures => {
    const found = figures[name];
    if (!found) throw new Error(`no figures for ${name}`);
    return found;
  };
  result('cli-startup', {
    validate_ms: get('validate').ms.median,
    explain_ms: get('explain').ms.median,
    plan_ms: get('plan').ms.median,
    plan_rss_mb: get('plan').rss.median,
    validate_p99_ms: get('validate').ms.p99,
    explain_p99_ms: get('explain').ms.p99,
    plan_p99_ms: get('plan').ms.p99,
    plan_rss_max_mb: get('plan').rss.max,
    validate_cpu_ms: get('validate').cpu.median,
    explain_cpu_ms: get('explain').cpu.median,
    plan_cpu_ms: get('plan').cpu.median,
    node_floor_ms: get('node_floor').ms.median,
    node_floor_cpu_ms: get('node_floor').cpu.median,
    validate_src_ms: get('validate_src').ms.median,
    explain_src_ms: get('explain_src').ms.median,
    plan_src_ms: get('plan_src').ms.median,
    plan_src_rss_mb: get('plan_src').rss.median,
    plan_src_over_compiled: get('plan_src').ms.median / get('plan').ms.median,
    ...(before === undefined
      ? {}
      : {
          validate_before_ms: get('validate_before').ms.median,
          explain_before_ms: get('explain_before').ms.median,
          plan_before_ms: get('plan_before').ms.median,
          plan_before_rss_mb: get('plan_before').rss.median,
          plan_before_over_compiled: get('plan_before').ms.median / get('plan').ms.median,
        }),
    goal_validate_explain_ms: 300,
    goal_plan_ms: 400,
    goal_plan_rss_mb: 100,
    runs,
  });
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
