// examples/gitops: the kustomization built by the real kubectl (kustomize), the Argo CD Applications and the Flux
// objects validated against their schemas, and the built policies checked the way a GitOps repo's CI would.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { ensureChartTools } from '../../scripts/chart-tools.ts';
import { parseManifests, repoRoot, run, type Manifest } from '../chart/helm.ts';
import { crdValidator, validateManifest } from '../chart/k8s-validate.ts';
import { runCli } from '../cli/run-cli.ts';

const gitopsDir = join(repoRoot, 'examples', 'gitops');
const policiesDir = join(repoRoot, 'examples', 'policies');

function kustomize(extra: readonly string[] = []): ReturnType<typeof run> {
  return run(ensureChartTools().kubectl, ['kustomize', ...extra, gitopsDir]);
}

function readManifests(file: string): Manifest[] {
  return parseManifests(readFileSync(file, 'utf8'));
}

describe('examples/gitops kustomization', () => {
  let built: Manifest[];
  let scratch: string;
  beforeAll(() => {
    const result = kustomize(['--load-restrictor', 'LoadRestrictionsNone']);
    expect(result.code, result.stderr).toBe(0);
    built = parseManifests(result.stdout);
    scratch = mkdtempSync(join(tmpdir(), 'nodeqos-gitops-'));
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  test('builds every example policy, labelled', () => {
    const examples = readdirSync(policiesDir)
      .flatMap(f => readManifests(join(policiesDir, f)))
      .map(m => m.metadata.name)
      .sort();
    expect(built.map(m => m.metadata.name).sort()).toEqual(examples);
    for (const policy of built) {
      expect(policy.kind).toBe('NodeQoSPolicy');
      expect(policy.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'nodeqos-policies' });
    }
  });

  test('applies the environment patch and leaves the rest as in examples/policies', () => {
    const batch = built.find(m => m.metadata.name === 'batch-heavy') as unknown as {
      spec: { classes: { BE: { net: { ceil: string; rate: string } } } };
    };
    expect(batch.spec.classes.BE.net).toEqual({ ceil: '4Gbit', rate: '2Gbit' });
    const original = readManifests(join(policiesDir, 'latency-critical.yaml'))[0];
    expect(built.find(m => m.metadata.name === 'latency-critical')?.spec).toEqual(original?.spec);
  });

  test('what it builds passes the CRD schema (the API server would accept it)', () => {
    const policies = crdValidator(join(repoRoot, 'crds', 'nodeqos.io_nodeqospolicies.yaml'));
    expect(built.flatMap(m => policies.validate(m))).toEqual([]);
  });

  test('what it builds passes nodeqos validate (the GitOps CI step)', () => {
    const file = join(scratch, 'built.yaml');
    writeFileSync(file, kustomize(['--load-restrictor', 'LoadRestrictionsNone']).stdout);
    const result = runCli(['validate', file]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('3 policies, 0 problem(s)');
    expect(result.code).toBe(0);
  });

  test('nodeqos validate fails the same CI step on a broken policy', () => {
    const file = join(scratch, 'broken.yaml');
    const broken = kustomize(['--load-restrictor', 'LoadRestrictionsNone']).stdout.replace(
      'ceil: 4Gbit',
      'ceil: fast',
    );
    writeFileSync(file, broken);
    const result = runCli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('batch-heavy');
  });

  test('without --load-restrictor kustomize refuses ../policies (why docs/gitops.md sets buildOptions)', () => {
    const result = kustomize();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('is not in or below');
  });
});

describe('Argo CD and Flux objects', () => {
  const files = [join(gitopsDir, 'argocd', 'applications.yaml'), join(gitopsDir, 'flux', 'nodeqos.yaml')];
  const objects = files.flatMap(readManifests);

  test('validate against the Argo CD and Flux schemas', () => {
    expect(objects.map(o => o.kind).sort()).toEqual([
      'Application',
      'Application',
      'GitRepository',
      'HelmRelease',
      'Kustomization',
    ]);
    expect(objects.flatMap(validateManifest)).toEqual([]);
  });

  test('point at paths that exist in this repository', () => {
    const paths = objects.flatMap(o => {
      const spec = o.spec as {
        source?: { path: string };
        path?: string;
        chart?: { spec: { chart: string } };
      };
      return [spec.source?.path, spec.path, spec.chart?.spec.chart].filter(
        (p): p is string => p !== undefined,
      );
    });
    expect(paths.sort()).toEqual([
      './examples/gitops',
      'charts/nodeqos',
      'charts/nodeqos',
      'examples/gitops',
    ]);
    for (const path of paths) expect(readdirSync(join(repoRoot, path)).length, path).toBeGreaterThan(0);
  });

  test('the chart is installed with CRD upgrades and the policies wait for Ready', () => {
    const release = objects.find(o => o.kind === 'HelmRelease') as unknown as {
      spec: { install: { crds: string }; upgrade: { crds: string } };
    };
    expect(release.spec.install.crds).toBe('CreateReplace');
    expect(release.spec.upgrade.crds).toBe('CreateReplace');
    const policies = objects.find(o => o.kind === 'Kustomization') as unknown as { spec: { wait: boolean } };
    expect(policies.spec.wait).toBe(true);
    const cm = parse(readFileSync(join(gitopsDir, 'argocd', 'argocd-cm.yaml'), 'utf8')) as Manifest;
    expect(validateManifest(cm)).toEqual([]);
  });
});
