// Real kubectl 1.35 against the embedded server, as the README prints it for `nodeqos demo --keep`: apply with
// the default (strict) validation, get with printer columns, explain, apply --server-side.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChartTools } from '../../scripts/chart-tools.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import type { RunResult } from '../chart/helm.ts';
import { runAsync } from '../support/run-async.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
let server: DevServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(join(tmpdir(), 'nodeqos-kubectl-dev-'));
  kubeconfig = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asynchronous: the server runs in this process, and spawnSync would stop it from answering. */
function kubectl(...args: string[]): Promise<RunResult> {
  return runAsync(ensureChartTools().kubectl, ['--kubeconfig', kubeconfig, ...args], repoRoot);
}

function ok(result: RunResult): string {
  expect(result.stderr.replace(/^Warning: .*\n?/gm, '')).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('kubectl 1.35 against the embedded API server', () => {
  it('apply -f examples/policies/ with default validation, then get nqp shows the printer columns', async () => {
    expect(ok(await kubectl('apply', '-f', 'examples/policies/latency-critical.yaml'))).toMatch(
      /nodeqospolicy.nodeqos.io\/latency-critical created/,
    );
    const table = ok(await kubectl('get', 'nqp,nip'));
    expect(table.split('\n')[0]).toMatch(/^NAME\s+PRIORITY\s+MATCHED\s+READY\s+AGE$/);
    expect(table).toMatch(/^nodeqospolicy.nodeqos.io\/latency-critical\s+100\s+/m);
  });

  it('refuses an unknown field (strict client default), explains the schema, applies server-side', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: bad}\nspec: {priorty: 1}\n',
    );
    const refused = await kubectl('apply', '-f', bad);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "spec.priorty"/);
    expect(ok(await kubectl('explain', 'nqp.spec.priority'))).toMatch(/FIELD: priority <integer>/);
    const applied = await kubectl('apply', '--server-side', '-f', 'examples/policies/batch-heavy.yaml');
    expect(applied.stdout).toMatch(/nodeqospolicy.nodeqos.io\/batch-heavy serverside-applied/);
    expect(applied.code).toBe(0);
  });

  it('auth whoami: without credentials the client is the administrator (SelfSubjectReview)', async () => {
    const review = JSON.parse(ok(await kubectl('auth', 'whoami', '-o', 'json'))) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    expect(review.status.userInfo).toEqual({
      username: 'system:admin',
      groups: ['system:masters', 'system:authenticated'],
    });
  });
});
