// examples/gitops/argocd/health.lua against its Argo CD test cases (health_test.yaml), run in a Lua VM.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, type Manifest } from '../chart/helm.ts';
import { crdValidator } from '../chart/k8s-validate.ts';
import { runHealthScript } from './lua-health.ts';

const dir = join(repoRoot, 'examples', 'gitops', 'argocd');
const script = readFileSync(join(dir, 'health.lua'), 'utf8');
const cases = (
  parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as {
    tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
  }
).tests;
const argoStatuses = new Set(['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown']);

function fixture(inputPath: string): Manifest {
  return parse(readFileSync(join(dir, inputPath), 'utf8')) as Manifest;
}

describe('Argo CD health check for NodeQoSPolicy', () => {
  test.each(cases.map(c => [c.inputPath, c] as const))('%s', (_, c) => {
    expect(argoStatuses.has(c.healthStatus.status)).toBe(true);
    expect(runHealthScript(script, fixture(c.inputPath))).toEqual(c.healthStatus);
  });

  test('the cases cover every outcome and every fixture', () => {
    expect(new Set(cases.map(c => c.healthStatus.status))).toEqual(
      new Set(['Healthy', 'Progressing', 'Degraded']),
    );
    const fixtures = readdirSync(join(dir, 'testdata')).map(f => `testdata/${f}`);
    expect(cases.map(c => c.inputPath).sort()).toEqual(fixtures.sort());
  });

  test('every fixture is a NodeQoSPolicy the CRD accepts', () => {
    const policies = crdValidator(join(repoRoot, 'crds', 'nodeqos.io_nodeqospolicies.yaml'));
    for (const c of cases) expect(policies.validate(fixture(c.inputPath)), c.inputPath).toEqual([]);
  });

  test('the harness is faithful: no string library, errors surface', () => {
    expect(() => runHealthScript('return {status = string.upper("x")}', {})).toThrow(/string/);
    expect(() => runHealthScript('return {status = ("x"):upper()}', {})).toThrow();
    expect(() => runHealthScript('local hs = {} hs.status = obj.status.x return hs', {})).toThrow(
      /health script failed/,
    );
    expect(runHealthScript('return {status = "Healthy", message = tostring(obj.n)}', { n: 3 })).toEqual({
      status: 'Healthy',
      message: '3',
    });
  });

  test('the script stays in the Lua 5.1 subset Argo CD (gopher-lua) runs', () => {
    const code = script.replace(/--.*$/gm, '');
    expect(code).not.toMatch(/\bstring\.|:(format|sub|match|gsub|find|lower|upper|len|rep)\(/);
    expect(code).not.toMatch(/\/\/|\bgoto\b|::\w+::|[&|~]\s*\d|<<|>>/);
  });

  test('argocd-cm.yaml registers exactly health.lua', () => {
    const cm = parse(readFileSync(join(dir, 'argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> };
    expect(cm.data['resource.customizations.health.nodeqos.io_NodeQoSPolicy']).toBe(script);
  });
});
