// The README's `agent --once` walk-through: plan -> sim-node -> agent --once -> files hold the plan's values.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { examplePlanArgs, runCli } from './run-cli.ts';

describe('nodeqos agent --once', () => {
  it('applies a plan file to a simulated node, reports per pod, and writes the BE quota at --pressure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-once-'));
    const planFile = join(dir, 'plan.json');
    const plan = runCli([...examplePlanArgs, '-o', 'json']);
    writeFileSync(planFile, plan.stdout);
    const node = join(dir, 'node-a');
    expect(runCli(['sim-node', '--plan', planFile, '--dir', node]).code).toBe(0);
    const roots = [
      '--cgroup-root',
      join(node, 'cgroup'),
      '--proc-root',
      join(node, 'proc'),
      '--sys-root',
      join(node, 'sys'),
      '--state-dir',
      join(node, 'state'),
    ];
    const once = runCli([
      'agent',
      '--once',
      '--plan',
      planFile,
      '--pressure',
      '70',
      '--log-level',
      'warn',
      ...roots,
    ]);
    expect(once.stderr).toBe('');
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^trading\/matcher\s+applied\s+\d+\s+\d+\s+-\s+-$/m);
    expect(once.stdout).toMatch(/^status: applied$/m);
    expect(once.stdout).toMatch(/BE tier quota \(pressure 70\): 59375 us per 100000 us/);
    const podDir = join(node, 'cgroup', 'kubepods', 'pod6f1c2b9e-1d2a-4c3b-9e8f-0a1b2c3d4e01');
    expect(readFileSync(join(podDir, 'cpuset.cpus'), 'utf8').trim()).toBe('2-5');
    expect(readFileSync(join(podDir, 'cpu.max'), 'utf8').trim()).toBe('400000 100000');
    expect(readFileSync(join(node, 'cgroup', 'kubepods', 'besteffort', 'cpu.max'), 'utf8').trim()).toBe(
      '59375 100000',
    );

    const again = runCli(['agent', '--once', '--plan', planFile, '--log-level', 'warn', ...roots]);
    expect(again.stdout).toMatch(/^trading\/matcher\s+applied\s+0\s+\d+\s+-\s+-$/m);

    // A plan with no BE pod lifts the quota an earlier --pressure run left on the tier.
    const empty = JSON.parse(plan.stdout) as { spec: { pods: unknown[] } };
    empty.spec.pods = [];
    const emptyFile = join(dir, 'empty.json');
    writeFileSync(emptyFile, JSON.stringify(empty));
    const lifted = runCli(['agent', '--once', '--plan', emptyFile, '--log-level', 'warn', ...roots]);
    expect(lifted.stdout).toMatch(/BE tier quota \(no BE pod in the plan\): unlimited/);
    expect(readFileSync(join(node, 'cgroup', 'kubepods', 'besteffort', 'cpu.max'), 'utf8').trim()).toBe(
      'max 100000',
    );
    // The pods that left the plan got their kubelet values back; --restore then has nothing left to do.
    expect(readFileSync(join(podDir, 'cpuset.cpus'), 'utf8').trim()).toBe('');
    const restore = runCli(['agent', '--restore', '--log-level', 'warn', ...roots]);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/BE tier quota: unlimited/);
  }, 120_000);

  it('refuses a plan for another node with exit 1 and changes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-once-'));
    const planFile = join(dir, 'plan.json');
    writeFileSync(
      planFile,
      runCli([
        'plan',
        '--policy',
        'examples/policies',
        '--node',
        'examples/node.yaml',
        '--pods',
        'examples/pods.yaml',
        '-o',
        'json',
      ]).stdout,
    );
    const node = join(dir, 'node-a');
    runCli(['sim-node', '--plan', planFile, '--dir', node]);
    const result = runCli([
      'agent',
      '--once',
      '--node-name',
      'node-b',
      '--plan',
      planFile,
      '--log-level',
      'warn',
      '--cgroup-root',
      join(node, 'cgroup'),
      '--proc-root',
      join(node, 'proc'),
      '--sys-root',
      join(node, 'sys'),
      '--state-dir',
      join(node, 'state'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/refused: plan is for node "node-a", this agent runs on "node-b"/);
    expect(
      readFileSync(
        join(node, 'cgroup', 'kubepods', 'pod6f1c2b9e-1d2a-4c3b-9e8f-0a1b2c3d4e01', 'cpu.weight'),
        'utf8',
      ).trim(),
    ).toBe('100');
  });
});
