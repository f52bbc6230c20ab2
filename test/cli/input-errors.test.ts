// Every input mistake a new user made (issue 16) gets a clear message naming what is wrong and a non-zero exit;
// nothing plans or validates "successfully" on the wrong input.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { examplePlanArgs, repoRoot, runCli } from './run-cli.ts';

const policyYaml = (name: string, spec: string): string =>
  `apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: ${name}}\nspec:\n${spec}`;

function scratch(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'nodeqos-input-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("scripts/run nodeqos from the user's own directory", () => {
  beforeAll(() => {
    // scripts/run runs the compiled CLI; build it outside the tests' timeouts.
    execFileSync('bash', ['-c', 'source scripts/node24.sh && source scripts/dist.sh && nodeqos_cli'], {
      cwd: repoRoot,
      stdio: 'ignore',
      timeout: 300_000,
    });
  }, 300_000);

  const scriptsRun = (
    args: string[],
    cwd: string,
  ): { code: number | null; stdout: string; stderr: string } => {
    const result = spawnSync(join(repoRoot, 'scripts', 'run'), args, {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  it("resolves relative paths against the caller's directory (the README's web-colocation.yaml)", () => {
    const dir = scratch({
      'web-colocation.yaml': policyYaml('web-colocation', '  nodeSelector: {matchLabels: {web: "true"}}\n'),
    });
    const result = scriptsRun(['nodeqos', 'validate', 'web-colocation.yaml'], dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('1 nodeqos object(s) checked, 1 policies, 0 problem(s)\n');
  });

  it('names the absolute path it could not read', () => {
    const dir = scratch();
    const result = scriptsRun(['nodeqos', 'validate', 'missing.yaml'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`nodeqos: ${join(dir, 'missing.yaml')}: cannot read (ENOENT)\n`);
  });
});

describe('nodeqos plan: the wrong input is an error, never an empty plan', () => {
  it('a policy file passed as --pods', () => {
    const result = runCli([
      ...examplePlanArgs.slice(0, 5),
      '--pods',
      'examples/policies/latency-critical.yaml',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'nodeqos: examples/policies/latency-critical.yaml: no Pod objects found (the file holds NodeQoSPolicy/latency-critical); leave out --pods for a node without pods\n',
    );
  });

  it('an empty pods file', () => {
    const dir = scratch({ 'pods.yaml': '# nothing yet\n' });
    const result = runCli([...examplePlanArgs.slice(0, 5), '--pods', join(dir, 'pods.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pods\.yaml: no Pod objects found \(the file holds no objects\)/);
  });

  it('pods mixed with other kinds', () => {
    const dir = scratch({
      'mixed.yaml': `${readFileSync(join(repoRoot, 'examples', 'pods.yaml'), 'utf8')}\n---\n${policyYaml('p', '  priority: 1\n')}`,
    });
    const result = runCli([...examplePlanArgs.slice(0, 5), '--pods', join(dir, 'mixed.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /mixed\.yaml: --pods takes Pods only, the file also holds NodeQoSPolicy\/p/,
    );
  });

  it('no --policy at all (not "no policy selects node")', () => {
    const result = runCli(['plan', '--node', 'examples/node.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: required option '--policy <file\|dir>' not specified$/m);
    expect(result.stderr).not.toMatch(/no policy selects/);
  });

  it('--policy pointing at files without any policy', () => {
    const result = runCli(['plan', '--policy', 'examples/pods.yaml', '--node', 'examples/node.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('nodeqos: --policy examples/pods.yaml: no NodeQoSPolicy found (Pod x6)\n');
  });

  it('a pods file passed as --node, a policy passed as --topology', () => {
    const node = runCli(['plan', '--policy', 'examples/policies', '--node', 'examples/pods.yaml']);
    expect(node.code).toBe(1);
    expect(node.stderr).toBe('nodeqos: examples/pods.yaml: no Node object found (the file holds Pod x6)\n');
    const topology = runCli([
      ...examplePlanArgs.slice(0, 5),
      '--topology',
      'examples/policies/batch-heavy.yaml',
    ]);
    expect(topology.code).toBe(1);
    expect(topology.stderr).toMatch(
      /batch-heavy\.yaml: expected one topology \{"cpus":\[\.\.\.\]\}, the file holds NodeQoSPolicy\/batch-heavy/,
    );
  });
});

describe('nodeqos validate', () => {
  it('paths without any nodeqos object fail (a CI job pointed at the wrong directory must not pass)', () => {
    const dir = scratch({
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n',
      'empty.yaml': '',
    });
    const result = runCli(['validate', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `nodeqos: ${dir}: no NodeQoSPolicy or NodeIsolationPlan found (ConfigMap/x)\n`,
    );
  });

  it('reports schema errors and unknown fields together, in one run', () => {
    const dir = scratch({
      'p.yaml': policyYaml(
        'both',
        '  priority: high\n  cpuSupress: {}\n  classes:\n    LS: {memory: {minRatio: 0.4, fooRatio: 1}}\n',
      ),
    });
    const result = runCli(['validate', join(dir, 'p.yaml')]);
    expect(result.code).toBe(1);
    const prefix = `${join(dir, 'p.yaml')}: NodeQoSPolicy/both: `;
    expect(result.stderr.trim().split('\n').sort()).toEqual(
      [
        `${prefix}spec.priority: must be a number`,
        `${prefix}spec.cpuSupress: unknown field; the API server would drop it`,
        `${prefix}spec.classes.LS.memory.fooRatio: unknown field; the API server would drop it`,
      ].sort(),
    );
  });

  it('YAML errors give the line, the column and the snippet with a caret', () => {
    const dir = scratch({
      'bad.yaml': 'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nkind: again\n',
    });
    const result = runCli(['validate', join(dir, 'bad.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        `nodeqos: ${join(dir, 'bad.yaml')}:3:1: malformed YAML/JSON: Map keys must be unique`,
        '  | kind: NodeQoSPolicy',
        '  | kind: again',
        '  | ^',
        '',
      ].join('\n'),
    );
  });
});

describe('nodeqos --version / nodeqos version', () => {
  it('print the package version and the commit', () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
    for (const args of [['--version'], ['version']]) {
      const result = runCli(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        new RegExp(
          `^nodeqos ${version.replaceAll('.', '\\.')} \\(commit [0-9a-f]{7,40}(-dirty)?, node v\\d+\\.\\d+\\.\\d+\\)\\n$`,
        ),
      );
    }
    const pinned = spawnSync(process.execPath, [join(repoRoot, 'src', 'cli', 'main.ts'), 'version'], {
      encoding: 'utf8',
      env: { ...process.env, NODEQOS_COMMIT: 'abc123' },
    });
    expect(pinned.stdout).toMatch(/\(commit abc123, /);
  });
});

describe('nodeqos agent --once safe defaults', () => {
  function simulatedNode(): { plan: string; node: string } {
    const dir = scratch();
    const plan = join(dir, 'plan.json');
    writeFileSync(plan, runCli([...examplePlanArgs, '-o', 'json']).stdout);
    const node = join(dir, 'node-a');
    expect(runCli(['sim-node', '--plan', plan, '--dir', node]).code).toBe(0);
    return { plan, node };
  }

  it('refuses simulated roots without --state-dir, unless they are a sim-node directory (then <dir>/state)', () => {
    const { plan, node } = simulatedNode();
    const mixed = runCli([
      'agent',
      '--once',
      '--plan',
      plan,
      '--cgroup-root',
      join(node, 'cgroup'),
      '--proc-root',
      join(node, 'proc'),
    ]);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toBe('');
    expect(mixed.stderr).toBe(
      "nodeqos: --state-dir is required when --cgroup-root, --proc-root or --sys-root is not the real one (/var/lib/nodeqos holds a real agent's restore records); a nodeqos sim-node directory D defaults to D/state\n",
    );

    const simulated = runCli([
      'agent',
      '--once',
      '--plan',
      plan,
      '--cgroup-root',
      join(node, 'cgroup'),
      '--proc-root',
      join(node, 'proc'),
      '--sys-root',
      join(node, 'sys'),
    ]);
    // Logs at warn by default: only the table on stdout, nothing on stderr.
    expect(simulated.stderr).toBe('');
    expect(simulated.code).toBe(0);
    expect(simulated.stdout).toMatch(/^status: applied$/m);
    expect(JSON.parse(readFileSync(join(node, 'state', 'original-values.json'), 'utf8'))).toBeTypeOf(
      'object',
    );
  });

  it('--log-level info brings the JSON logs back (on stderr)', () => {
    const { plan, node } = simulatedNode();
    const result = runCli([
      'agent',
      '--once',
      '--plan',
      plan,
      '--log-level',
      'info',
      '--cgroup-root',
      join(node, 'cgroup'),
      '--proc-root',
      join(node, 'proc'),
      '--sys-root',
      join(node, 'sys'),
      '--state-dir',
      join(node, 'elsewhere'),
    ]);
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ component: 'nodeqos-agent' });
  });
});
