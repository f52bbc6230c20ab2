import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planSchema } from '../../src/api/plan.ts';
import { examplePlanArgs, repoRoot, runCli } from './run-cli.ts';

const planArgs = examplePlanArgs;

describe('nodeqos plan', () => {
  it('prints a schema-valid plan as JSON, the same plan as YAML, and a table for people', () => {
    const json = runCli([...planArgs, '-o', 'json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const plan = planSchema.parse(JSON.parse(json.stdout));
    expect(plan.spec.policyName).toBe('latency-critical');
    expect(plan.spec.pods.find(p => p.name === 'matcher')?.cpu).toMatchObject({
      cpuset: '2-5',
      pinned: 'exclusive',
    });
    expect(plan.spec.pods.find(p => p.name === 'pricer')?.cpu.cpuset).toBe('8-9');

    const yaml = runCli([...planArgs, '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(parse(yaml.stdout)).toEqual(plan);

    const table = runCli([...planArgs, '-o', 'table']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^POD\s+CLASS\s+KUBE-QOS\s+SHARES\s+QUOTA\s+CPUSET\s+MEM-MIN\s+MEM-LOW\s+MEM-HIGH\s+MEM-MAX\s+OOM$/m,
    );
    expect(table.stdout).toMatch(
      /^trading\/matcher\s+LSE\s+Guaranteed\s+262144\s+400000\s+2-5 \(exclusive\)\s+6\.4Gi\s+7\.2Gi\s+7\.2Gi\s+8Gi\s+-900$/m,
    );
    expect(table.stdout).toMatch(
      /^batch\/spark-exec-1\s+BE\s+BestEffort\s+2\s+unlimited\s+0-1,6-7,10-15\s+0\s+0\s+max\s+max\s+1000$/m,
    );
  });

  it('shows the eviction settings, and the last round the agent reported when the previous plan has a status', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-cli-'));
    writeFileSync(
      join(dir, 'p.yaml'),
      'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: evict-be}\nspec:\n  eviction: {memory: {enabled: true, thresholdPercent: 80}}\n',
    );
    const args = ['plan', '--policy', join(dir, 'p.yaml'), '--node', 'examples/node.yaml'];
    const plain = runCli([...args, '-o', 'table']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(
      /^BE eviction: memory on, working set >= 80% -> down to 78%, min reclaim 0, cool-down 30s; cpu off; never above priority 6999; conditions hold 300s$/m,
    );
    expect(plain.stdout).not.toContain('last eviction round');
    const previous = planSchema.parse(JSON.parse(runCli([...args, '-o', 'json']).stdout));
    const reported = {
      ...previous,
      status: {
        memoryWorkingSetPercent: 81.5,
        lastEvictionRound: {
          time: '2026-12-04T10:00:00.000Z',
          resource: 'memory',
          reason: 'node memory working set 81.5% >= threshold 80%',
          observedPercent: 81.5,
          thresholdPercent: 80,
          target: 1024,
          evicted: ['batch/spark-exec-1'],
          refused: [],
        },
      },
    };
    writeFileSync(join(dir, 'previous.json'), JSON.stringify(reported));
    const table = runCli([...args, '--previous', join(dir, 'previous.json'), '-o', 'table']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(
      'last eviction round: node working set 81.5%; 2026-12-04T10:00:00.000Z memory: evicted batch/spark-exec-1',
    );
    const json = runCli([...args, '--previous', join(dir, 'previous.json'), '-o', 'json']);
    expect(planSchema.parse(JSON.parse(json.stdout)).status).toBeUndefined();
  });

  it('carries spec.cpuSuppress.beIdle into the plan and the table (off by default)', () => {
    const byDefault = runCli([...planArgs, '-o', 'table']);
    expect(byDefault.stdout).toMatch(/^BE tier: base .*, cpu\.idle off$/m);
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-cli-'));
    writeFileSync(
      join(dir, 'p.yaml'),
      'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: idle-be}\nspec:\n  cpuSuppress: {beIdle: true}\n',
    );
    const args = ['plan', '--policy', join(dir, 'p.yaml'), '--node', 'examples/node.yaml'];
    const json = runCli([...args, '-o', 'json']);
    expect(json.code).toBe(0);
    expect(planSchema.parse(JSON.parse(json.stdout)).spec.cpuSuppress.beIdle).toBe(true);
    expect(runCli([...args, '-o', 'table']).stdout).toMatch(/^BE tier: base .*, cpu\.idle on$/m);
  });

  it('--pressure fills quotaAtPressure; --previous keeps pinned CPUs', () => {
    const first = runCli([...planArgs, '-o', 'json', '--pressure', '70']);
    const plan = planSchema.parse(JSON.parse(first.stdout));
    expect(plan.spec.cpuSuppress.quotaAtPressure).toBe(59375);
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-cli-'));
    writeFileSync(join(dir, 'prev.json'), first.stdout);
    const again = runCli([...planArgs, '-o', 'json', '--previous', join(dir, 'prev.json')]);
    const replanned = planSchema.parse(JSON.parse(again.stdout));
    expect(replanned.spec.pods.map(p => p.cpu.cpuset)).toEqual(plan.spec.pods.map(p => p.cpu.cpuset));
  });

  it('rejects a pressure outside 0-100 and a node no policy selects', () => {
    expect(runCli([...planArgs, '--pressure', '101']).code).not.toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-cli-'));
    writeFileSync(
      join(dir, 'p.yaml'),
      'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: only-gpu}\nspec:\n  nodeSelector: {matchLabels: {gpu: "true"}}\n',
    );
    const result = runCli(['plan', '--policy', join(dir, 'p.yaml'), '--node', 'examples/node.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no policy selects node node-a');
  });
});

describe('nodeqos validate', () => {
  it('exits 0 on examples/', () => {
    const result = runCli(['validate', 'examples/']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\d+ policies, 0 problem\(s\)/);
  });

  it('exits 1 with one line per problem naming file, object and field path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-validate-'));
    writeFileSync(
      join(dir, 'broken.yaml'),
      [
        'apiVersion: nodeqos.io/v1alpha1',
        'kind: NodeQoSPolicy',
        'metadata: {name: broken}',
        'spec:',
        '  cpuSuppress:',
        '    curve: [{pressure: 40, ratio: 1}, {pressure: 80, ratio: 1.2}]',
        '  classes:',
        '    LSR: {oomScoreAdj: -2000}',
      ].join('\n'),
    );
    const result = runCli(['validate', dir]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect([...lines].sort()).toEqual([
      `${join(dir, 'broken.yaml')}: NodeQoSPolicy/broken: spec.classes.LSR.oomScoreAdj: must be >= -1000`,
      `${join(dir, 'broken.yaml')}: NodeQoSPolicy/broken: spec.cpuSuppress.curve[1].ratio: must be <= 1`,
    ]);
  });

  it('reports malformed YAML as one clear line, never a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-validate-'));
    writeFileSync(join(dir, 'bad.yaml'), 'spec: [unclosed\n');
    const result = runCli(['validate', join(dir, 'bad.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^nodeqos: .*bad\.yaml:\d+:\d+: malformed YAML\/JSON/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a missing file clearly', () => {
    const result = runCli(['validate', join(repoRoot, 'does-not-exist.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`nodeqos: ${join(repoRoot, 'does-not-exist.yaml')}: cannot read (ENOENT)\n`);
  });
});

describe('nodeqos demo', () => {
  it('runs API server, controller and agents end to end and prints values read back from the cgroup files', () => {
    const result = runCli(['demo']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^nodeqos demo: embedded API server http:\/\/127\.0\.0\.1:\d+, controller, 3 agents; 3 policies, 15 pods; every plan applied in \d+ ms/,
    );
    expect(result.stdout).toMatch(
      /^node node-latency\s+policy latency-critical\s+plan generation \d+ applied: True \(5 pod\(s\) applied, 0 failing, 0 vanished\)$/m,
    );
    expect(result.stdout).toMatch(/^node node-batch\s+policy batch-heavy\s.*applied: True/m);
    expect(result.stdout).toMatch(/^node node-general\s+policy general-colocation\s.*applied: True/m);
    // 45% PSI on the latency-critical curve (40 -> 0.6, 60 -> 0.2) = 0.5 of a 4000m base.
    expect(result.stdout).toMatch(/pressure 45% {3}BE tier cpu\.max 200000 100000/);
    expect(result.stdout).toMatch(
      /^trading\/matcher-latency\s+LSE\s+10000\s+200000 100000\s+1-2\s+1\.6Gi\s+1\.8Gi\s+1\.8Gi\s+2Gi\s+-900$/m,
    );
    expect(result.stdout).toMatch(
      /^batch\/spark-latency\s+BE\s+1\s+max 100000\s+0,3-7\s+0\s+0\s+max\s+max\s+1000$/m,
    );
  });
});
