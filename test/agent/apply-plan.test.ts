// Whole-plan behaviour: validation refuses a plan entirely, the node name must match, pods leaving the plan get
// their original values back, a corrupt state file falls back to kubelet defaults, and deletePlan restores all.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplied } from '../../src/agent/apply-plan.ts';
import { plan, planPod, uids } from './helpers/plans.ts';
import type { MemoryFs } from './helpers/memory-fs.ts';
import { unlimitedV1, v1Node, v1PodDir } from './helpers/trees.ts';
import { memoryNodeAgent } from './helpers/memory-agent.ts';

const lse = { uid: uids.lse, kubeQoS: 'Guaranteed' as const, containers: ['c1'], pids: { c1: 301 } };
const ls = { uid: uids.ls, kubeQoS: 'Burstable' as const, containers: ['c1'], pids: { c1: 302 } };

let stateDir = '';
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-apply-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

async function agentOn(fs: MemoryFs): Promise<NodeAgent> {
  return memoryNodeAgent({ nodeName: 'node-a', fs, stateDir });
}

function twoPods(): ReturnType<typeof plan> {
  return plan('node-a', [
    planPod({
      uid: lse.uid,
      name: 'lse',
      qosClass: 'LSE',
      kubeQoS: 'Guaranteed',
      cpu: { shares: 4096, cfsQuotaUs: 200000, cpuset: '2-3', pinned: 'exclusive' },
      memory: { maxBytes: 1 << 30 },
      oomScoreAdj: -997,
    }),
    planPod({
      uid: ls.uid,
      name: 'ls',
      qosClass: 'LS',
      kubeQoS: 'Burstable',
      cpu: { shares: 512, cpuset: '0-1' },
      memory: { lowBytes: 1 << 28 },
      oomScoreAdj: 400,
    }),
  ]);
}

describe('plan validation', () => {
  it('refuses a plan failing the schema entirely: nothing is written', async () => {
    const fs = v1Node([lse, ls]);
    const agent = await agentOn(fs);
    const bad = structuredClone(twoPods()) as unknown as { spec: { pods: { cpu: { shares: number } }[] } };
    const second = bad.spec.pods[1];
    if (second) second.cpu.shares = 1;
    const report = await agent.applyPlan(bad);
    expect(report).toMatchObject({
      status: 'refused',
      reason: 'plan failed validation',
      issues: [expect.stringContaining('spec.pods.1.cpu.shares') as string],
    });
    expect(fs.writes).toEqual([]);
  });

  it('refuses a pod uid that could escape the cgroup root', async () => {
    const fs = v1Node([lse]);
    const agent = await agentOn(fs);
    const evil = structuredClone(twoPods()) as unknown as { spec: { pods: { uid: string }[] } };
    const first = evil.spec.pods[0];
    if (first) first.uid = '../../../etc';
    expect((await agent.applyPlan(evil)).status).toBe('refused');
    expect(fs.writes).toEqual([]);
  });

  it('refuses a plan for another node', async () => {
    const fs = v1Node([lse, ls]);
    const agent = await agentOn(fs);
    const other = { ...twoPods(), spec: { ...twoPods().spec, nodeName: 'node-b' } };
    expect(await agent.applyPlan(other)).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('node-b') as string,
    });
    expect(fs.writes).toEqual([]);
  });
});

describe('restore', () => {
  it('puts back what the agent found before its first write when a pod leaves the plan', async () => {
    const fs = v1Node([lse, ls]);
    fs.files.set(`${v1PodDir('cpu', lse)}/c1/cpu.cfs_quota_us`, '300000');
    const agent = await agentOn(fs);
    await agent.applyPlan(twoPods());
    expect(fs.get(`${v1PodDir('cpu', lse)}/c1/cpu.cfs_quota_us`)).toBe('200000');
    const state = JSON.parse(await readFile(join(stateDir, 'original-values.json'), 'utf8')) as {
      checksum: string;
    };
    expect(state.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);

    const report = (await agent.applyPlan(plan('node-a', twoPods().spec.pods.slice(1)))) as PlanApplied;
    expect(report.restored.map(p => [p.name, p.outcome, p.failed])).toEqual([['lse', 'restored', []]]);
    expect(fs.get(`${v1PodDir('cpu', lse)}/cpu.shares`)).toBe('1024');
    expect(fs.get(`${v1PodDir('cpu', lse)}/cpu.cfs_quota_us`)).toBe('-1');
    expect(fs.get(`${v1PodDir('cpu', lse)}/c1/cpu.cfs_quota_us`)).toBe('300000');
    expect(fs.get(`${v1PodDir('cpuset', lse)}/cpuset.cpus`)).toBe('0-3');
    expect(fs.get(`${v1PodDir('cpuset', lse)}/c1/cpuset.cpus`)).toBe('0-3');
    expect(fs.get(`${v1PodDir('memory', lse)}/memory.limit_in_bytes`)).toBe('-1');
    expect(fs.get('/proc/301/oom_score_adj')).toBe('0');
    // The record is gone once restored: a later pass does not touch the pod again.
    fs.writes.length = 0;
    const later = (await agent.applyPlan(plan('node-a', twoPods().spec.pods.slice(1)))) as PlanApplied;
    expect(later.restored).toEqual([]);
    expect(fs.writes).toEqual([]);
  });

  it('restores from the persisted record after an agent restart', async () => {
    const fs = v1Node([lse, ls]);
    await (await agentOn(fs)).applyPlan(twoPods());
    const restarted = await agentOn(fs);
    const report = await restarted.deletePlan();
    expect(report.restored.map(p => [p.name, p.outcome])).toEqual([
      ['lse', 'restored'],
      ['ls', 'restored'],
    ]);
    expect(fs.get(`${v1PodDir('cpu', ls)}/cpu.shares`)).toBe('1024');
    expect(fs.get(`${v1PodDir('memory', ls)}/memory.soft_limit_in_bytes`)).toBe('-1');
    expect(report.tier?.quotaUs).toBe(-1);
  });

  it('with an unusable state file: reports it, and restores kubelet defaults, leaving spec-derived knobs', async () => {
    const fs = v1Node([lse, ls]);
    await writeFile(
      join(stateDir, 'original-values.json'),
      '{"checksum":"sha256:00","payload":{"version":1,"records":{}}}',
    );
    const agent = await agentOn(fs);
    const applied = (await agent.applyPlan(twoPods())) as PlanApplied;
    expect(applied.status).toBe('degraded');
    expect(applied.stateProblem).toBe('checksum mismatch');
    const report = (await agent.applyPlan(plan('node-a', twoPods().spec.pods.slice(1)))) as PlanApplied;
    const restored = report.restored[0];
    expect(restored?.outcome).toBe('restored');
    expect(restored?.leftAsIs.map(l => l.knob)).toEqual([
      'cpu.shares',
      'cpu.cfs_quota_us',
      'cpu.cfs_period_us',
      'memory.limit_in_bytes',
      'blkio.weight',
      'oom_score_adj',
    ]);
    // The parent's full cpuset comes back; the spec-derived shares stay as the agent left them.
    expect(fs.get(`${v1PodDir('cpuset', lse)}/cpuset.cpus`)).toBe('0-3');
    expect(fs.get(`${v1PodDir('cpu', lse)}/cpu.shares`)).toBe('4096');
    expect(fs.get(`${v1PodDir('memory', lse)}/memory.soft_limit_in_bytes`)).toBe(unlimitedV1);
  });
});

describe('a knob file left empty by a write that never finished', () => {
  const quota = (): string => `${v1PodDir('cpu', lse)}/c1/cpu.cfs_quota_us`;
  const shares = (): string => `${v1PodDir('cpu', lse)}/cpu.shares`;

  it('is rewritten from the plan on the next pass and from the saved original on restore, then forgotten', async () => {
    const fs = v1Node([lse, ls]);
    fs.files.set(quota(), '300000');
    const agent = await agentOn(fs);
    await agent.applyPlan(twoPods());
    fs.files.set(quota(), '');
    fs.files.set(shares(), '\n');
    const again = (await agent.applyPlan(twoPods())) as PlanApplied;
    expect(again.pods.flatMap(p => p.failed)).toEqual([]);
    expect(fs.get(quota())).toBe('200000');
    expect(fs.get(shares())).toBe('4096');

    fs.files.set(shares(), '');
    const restored = await agent.deletePlan();
    expect(restored.restored.map(p => [p.name, p.outcome, p.failed])).toEqual([
      ['lse', 'restored', []],
      ['ls', 'restored', []],
    ]);
    expect(fs.get(shares())).toBe('1024');
    expect(fs.get(quota())).toBe('300000');
    fs.writes.length = 0;
    expect((await agent.deletePlan()).restored).toEqual([]);
    expect(fs.writes).toEqual([]);
  });

  it('without a saved original stays a parse failure naming the file: its value is unknown', async () => {
    const fs = v1Node([lse, ls]);
    fs.files.set(quota(), '');
    const report = (await (await agentOn(fs)).applyPlan(twoPods())) as PlanApplied;
    const failed = report.pods.flatMap(p => p.failed);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ knob: 'cpu.cfs_quota_us', container: 'c1', errno: 'EPARSE' });
    expect(failed[0]?.message).toContain(quota());
  });
});

describe('restore after the state file was lost to corruption', () => {
  it('finds the pod cgroups of pods that left the plan while no agent ran, and returns them to kubelet values', async () => {
    const fs = v1Node([lse, ls]);
    await (await agentOn(fs)).applyPlan(twoPods());
    expect(fs.get(`${v1PodDir('cpuset', lse)}/cpuset.cpus`)).toBe('2-3');
    // The agent is gone; the LSE pod leaves the plan; the state file is damaged meanwhile.
    await writeFile(join(stateDir, 'original-values.json'), '{"checksum":"sha256:00"');
    const restarted = await agentOn(fs);
    const report = (await restarted.applyPlan(plan('node-a', twoPods().spec.pods.slice(1)))) as PlanApplied;
    expect(report.stateProblem).toMatch(/not JSON/);
    const restored = report.restored.find(p => p.uid === lse.uid);
    expect(restored?.outcome).toBe('restored');
    // What kubelet sets from the pod spec cannot be known here: reported, never guessed.
    expect(restored?.leftAsIs.map(l => l.knob)).toContain('cpu.shares');
    expect(fs.get(`${v1PodDir('cpuset', lse)}/cpuset.cpus`)).toBe('0-3');
    expect(fs.get(`${v1PodDir('cpu', lse)}/cpu.cfs_burst_us`)).toBe('0');
    // Returned once: the next pass leaves it alone.
    const later = (await restarted.applyPlan(plan('node-a', twoPods().spec.pods.slice(1)))) as PlanApplied;
    expect(later.restored.map(p => p.uid)).not.toContain(lse.uid);
  });
});

describe('restore of a pod the agent never changed', () => {
  it('writes nothing when the pod leaves the plan', async () => {
    const fs = v1Node([lse]);
    fs.files.set(`${v1PodDir('cpuset', lse)}/cpuset.cpus`, '2');
    fs.files.set(`${v1PodDir('cpuset', lse)}/c1/cpuset.cpus`, '2');
    fs.files.set(`${v1PodDir('blkio', lse)}/blkio.weight`, '100');
    const agent = await agentOn(fs);
    const same = plan('node-a', [
      planPod({ uid: lse.uid, name: 'lse', qosClass: 'LSE', kubeQoS: 'Guaranteed', cpu: { cpuset: '2' } }),
    ]);
    await agent.applyPlan(same);
    expect(fs.writes).toEqual([]);
    const report = (await agent.applyPlan(plan('node-a', []))) as PlanApplied;
    expect(report.restored.map(p => [p.name, p.outcome, p.written])).toEqual([['lse', 'restored', []]]);
    expect(fs.writes).toEqual([]);
  });
});
