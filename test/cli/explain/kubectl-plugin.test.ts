// bin/kubectl-nodeqos as kubectl sees it: found as a plugin on PATH (also through a symlink), running the compiled
// nodeqos CLI with kubectl's arguments, and finding the cluster the way kubectl does ($KUBECONFIG, ~/.kube/config,
// the current context or --context).
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
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
    // The plugin runs dist/; build it once here rather than inside the first kubectl call's timeout.
    execFileSync('bash', ['-c', 'source scripts/node24.sh && source scripts/dist.sh && nodeqos_cli'], {
      cwd: repoRoot,
      stdio: 'ignore',
      timeout: 300_000,
    });
  }, 300_000);
  afterAll(() => {
    rmSync(linkDir, { recursive: true, force: true });
  });

  test('is an executable bash script that hands every argument to the compiled nodeqos CLI', () => {
    accessSync(plugin, constants.X_OK);
    const text = readFileSync(plugin, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('NODEQOS_KUBECTL_PLUGIN=1 exec node "$cli" "$@"');
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
      const kubectl = ensureChartTools().kubectl;
      const result = await runAsync(kubectl, ['nodeqos', 'explain', 'n1', '--kubeconfig', kubeconfig], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/n1/);
      expect(result.stdout).toMatch(/default\/web/);
      const missing = await runAsync(
        kubectl,
        ['nodeqos', 'explain', 'nope', '--kubeconfig', kubeconfig],
        env,
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/node nope has no NodeIsolationPlan/);

      // No flag: $KUBECONFIG, and the shorthand `kubectl nodeqos <node>` the chart's NOTES print.
      const viaEnv = await runAsync(kubectl, ['nodeqos', 'n1'], { ...env, KUBECONFIG: kubeconfig });
      expect(viaEnv.stderr).toBe('');
      expect(viaEnv.stdout).toMatch(/^default\/web\s+LS\s/m);
      // Neither flag nor $KUBECONFIG: ~/.kube/config, as kubectl.
      const home = join(linkDir, 'home');
      mkdirSync(join(home, '.kube'), { recursive: true });
      writeFileSync(join(home, '.kube', 'config'), readFileSync(kubeconfig));
      const withoutKubeconfig = { ...env, KUBECONFIG: undefined };
      const viaHome = await runAsync(kubectl, ['nodeqos', 'n1'], { ...withoutKubeconfig, HOME: home });
      expect(viaHome.stderr).toBe('');
      expect(viaHome.stdout).toMatch(/^default\/web\s+LS\s/m);
      // --context picks a context other than the current one; -n shows one namespace's pods.
      const twoContexts = join(linkDir, 'two-contexts');
      writeFileSync(
        twoContexts,
        readFileSync(kubeconfig, 'utf8')
          .replace('current-context: dev', 'current-context: elsewhere')
          .replace(
            'contexts:\n',
            'contexts:\n  - name: elsewhere\n    context: { cluster: nowhere, user: dev }\n',
          ),
      );
      const wrong = await runAsync(kubectl, ['nodeqos', 'n1'], { ...env, KUBECONFIG: twoContexts });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/context "elsewhere" names cluster "nowhere", which has no server/);
      const chosen = await runAsync(kubectl, ['nodeqos', 'n1', '--context', 'dev', '-n', 'kube-system'], {
        ...env,
        KUBECONFIG: twoContexts,
      });
      expect(chosen.stderr).toBe('');
      expect(chosen.stdout).toMatch(/pods 0 in namespace kube-system \(of 1\)/);
      expect(chosen.stdout).not.toMatch(/default\/web/);
    } finally {
      await server.close();
    }
  }, 120_000);

  test('without any kubeconfig it says where it looked, never "HTTP protocol is not allowed"', async () => {
    const home = mkdtempSync(join(tmpdir(), 'nodeqos-home-'));
    try {
      const withoutKubeconfig = { ...env, KUBECONFIG: undefined };
      const result = await runAsync(ensureChartTools().kubectl, ['nodeqos', 'n1'], {
        ...withoutKubeconfig,
        HOME: home,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^nodeqos: no kubeconfig: ~\/\.kube\/config does not exist and \$KUBECONFIG is unset; pass --kubeconfig <file>$/m,
      );
      const help = await runAsync(ensureChartTools().kubectl, ['nodeqos', '--help'], env);
      expect(help.stdout).toMatch(/^Usage: kubectl nodeqos /m);
      expect(help.stdout).toMatch(/^ {2}kubectl nodeqos <node> +short for: kubectl nodeqos explain <node>$/m);
    } finally {
      rmSync(home, { recursive: true, force: true });
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
