// Per-import RSS budget: a fresh Node process per candidate imports one thing and reports its resident set
// (VmRSS, and VmHWM for the peak) from /proc/self/status, after a forced GC; each candidate runs `runs` times,
// interleaved, and the median is kept. "bare" imports nothing (the floor every figure is read against);
// "bare-ts" loads one empty .ts module (what type stripping costs before any code runs). The figures for the
// dependencies and modules are increments over bare (MiB); bare itself is absolute.
// The agent's budget (issue 11): VmHWM <= 80 MB for the whole agent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emit, quick, result, summarize } from './harness.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const src = (path: string): string => pathToFileURL(join(repo, 'src', path)).href;

/** name -> the specifiers it imports (resolved from the repository, so node_modules is found). */
const candidates: Record<string, readonly string[]> = {
  bare: [],
  'bare-ts': ['@empty-ts'],
  client_node: ['@kubernetes/client-node'],
  pino: ['pino'],
  prom_client: ['prom-client'],
  zod: ['zod'],
  undici: ['undici'],
  yaml: ['yaml'],
  commander: ['commander'],
  src_api: ['plan.ts', 'policy.ts', 'inputs.ts', 'topology.ts', 'crd.ts'].map(f => src(`api/${f}`)),
  src_plan: [src('plan/plan-node.ts')],
  lite_client: [src('kube/lite/client.ts'), src('kube/lite/config.ts')],
  kube_http: [src('kube/http.ts'), src('kube/kubeconfig.ts')],
  cgroup_watcher: [src('agent/watch/cgroup-watcher.ts')],
};

const runs = quick ? 3 : 7;
const scratch = mkdtempSync(join(tmpdir(), 'nodeqos-import-rss-'));
const emptyTs = join(scratch, 'empty.ts');
writeFileSync(emptyTs, 'export const empty: number = 0;\n');

function probe(specifiers: readonly string[]): { rss: number; hwm: number } {
  const imports = specifiers
    .map(s => (s === '@empty-ts' ? pathToFileURL(emptyTs).href : s))
    .map(s => `await import(${JSON.stringify(s)});`)
    .join('');
  const code =
    `${imports}globalThis.gc();const t=require('node:fs').readFileSync('/proc/self/status','utf8');` +
    `const kb=f=>Number(new RegExp('^'+f+':\\\\s+(\\\\d+) kB$','m').exec(t)[1]);` +
    `process.stdout.write(JSON.stringify({rss:kb('VmRSS'),hwm:kb('VmHWM')}))`;
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--input-type=commonjs', '-e', `(async()=>{${code}})()`],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as { rss: number; hwm: number };
}

const samples: Record<string, { rss: number[]; hwm: number[] }> = {};
try {
  for (let run = 0; run < runs; run++)
    for (const [name, specifiers] of Object.entries(candidates)) {
      const { rss, hwm } = probe(specifiers);
      samples[name] ??= { rss: [], hwm: [] };
      samples[name].rss.push(rss / 1024);
      samples[name].hwm.push(hwm / 1024);
    }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const median = (name: string, key: 'rss' | 'hwm'): number => summarize(samples[name]?.[key] ?? []).median;
const bare = median('bare', 'rss');
const figures: Record<string, number> = { bare_mib: bare };
for (const name of Object.keys(candidates)) {
  emit({
    bench: 'import-rss',
    candidate: name,
    rssMiB: summarize(samples[name]?.rss ?? []),
    hwmMiB: summarize(samples[name]?.hwm ?? []),
  });
  if (name !== 'bare') figures[`${name.replace('-', '_')}_mib`] = median(name, 'rss') - bare;
}
result('import-rss', { runs, ...figures });
