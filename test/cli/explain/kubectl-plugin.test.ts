// bin/kubectl-nodeqos as kubectl sees it: found as a plugin on PATH (also through a symlink), and running the
// nodeqos CLI's explain command with kubectl's arguments.
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureChartTools } from '../../../scripts/chart-tools.ts';
import { run } from '../../chart/helm.ts';
import { repoRoot } from '../run-cli.ts';
import { runController } from '../../../src/controller/run-controller.ts';
import { startDevServer } from '../../../src/devserver/index.ts';
import { TestCluster } from '../../support/cluster.ts';
import { eventually } from '../../support/eventually.ts';

const plugin = join(repoRoot, 'bin', 'kubectl-nodeqos');

describe('kubectl-nodeqos', () => {
  let linkDir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    linkDir = mkdtempSync(join(tmpdir(), 'nodeqos-plugin-'));
    symlinkSync(plugin, join(linkDir, 'kubectl-nodeqos'));
    env = { ...process.env, PATH: `${linkDir}:${process.env.PATH ?? ''}`, KUBECONFIG: join(linkDir, 'none') };
  });
  afterAll(() => {
    rmSync(linkDir, { recursive: true, force: true });
  });

  test('is an executable bash script that hands every argument to the nodeqos CLI', () => {
    accessSync(plugin, constants.X_OK);
    const text = readFileSync(plugin, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('exec node "$root/src/cli/main.ts" "$@"');
  });

  test('kubectl lists it as a valid plugin', () => {
    const result = run(ensureChartTools().kubectl, ['plugin', 'list'], repoRoot, env);
    expect(result.stdout).toContain(join(linkDir, 'kubectl-nodeqos'));
    expect(result.stderr).not.toMatch(/warning.*kubectl-nodeqos/i);
  });

  test('kubectl nodeqos explain <node> prints the plan next to the applied status, from a live API server', async () => {
    const server = await startDevServer();
    try {
      const cluster = new TestCluster(server);
      await cluster.node('n1');
      await cluster.policy('p', {});
      await cluster.pod('web', 'n1', { cpu: '1' });
      const controller = runController({
        kubeConfig: server.kubeConfig(),
        logger: pino({ level: 'silent' }),
        identity: 't',
        debounceMs: 10,
      });
      try {
        await eventually(async () => expect((await cluster.plan('n1'))?.spec.pods).toHaveLength(1));
      } finally {
        await controller.stop();
      }
      const kubeconfig = join(linkDir, 'kubeconfig');
      await server.writeKubeconfig(kubeconfig);
      const result = await runAsync(
        ensureChartTools().kubectl,
        ['nodeqos', 'explain', 'n1', '--kubeconfig', kubeconfig],
        env,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/n1/);
      expect(result.stdout).toMatch(/default\/web/);
      const missing = await runAsync(
        ensureChartTools().kubectl,
        ['nodeqos', 'explain', 'nope', '--kubeconfig', kubeconfig],
        env,
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/node nope has no NodeIsolationPlan/);
    } finally {
      await server.close();
    }
  }, 60_000);
});

/** Like run(), but asynchronous so the in-process API server keeps answering while kubectl waits. */
function runAsync(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(command, args, { cwd: repoRoot, env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
