// Write order the v1 kernel demands. The MemoryFs enforces the kernel's parent/child rules (EACCES, EBUSY,
// EINVAL), so a wrong order fails the pass; the recorded write order is asserted as well.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplied } from '../../../src/agent/apply-plan.ts';
import { plan, planPod, uids } from '../helpers/plans.ts';
import { v1Node, v1PodDir } from '../helpers/trees.ts';
import type { MemoryFs } from '../helpers/memory-fs.ts';
import { memoryNodeAgent } from '../helpers/memory-agent.ts';

const pod = { uid: uids.lse, kubeQoS: 'Guaranteed' as const, containers: ['c1', 'c2'] };
let stateDir = '';

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-order-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

async function agentOn(fs: MemoryFs): Promise<NodeAgent> {
  return memoryNodeAgent({ fs, stateDir });
}

function lsePlan(cpu: Parameters<typeof planPod>[0]['cpu']): ReturnType<typeof plan> {
  return plan('n', [planPod({ uid: pod.uid, name: 'lse', qosClass: 'LSE', kubeQoS: 'Guaranteed', cpu })]);
}

const cpusetDir = v1PodDir('cpuset', pod);
const cpuDir = v1PodDir('cpu', pod);

function order(fs: MemoryFs, file: string): string[] {
  return fs.writesTo(`/${file}`).map(w => `${w.path.replace(/^.*pod[0-9a-f-]+/, 'pod')}=${w.data}`);
}

describe('the kernel rules in the test fs have teeth', () => {
  it('refuses shrinking a parent cpuset below a child, growing a child past its parent, and a child quota above its parent', async () => {
    const fs = v1Node([pod]);
    await expect(fs.writeFile(`${cpusetDir}/cpuset.cpus`, '1')).rejects.toMatchObject({ code: 'EBUSY' });
    await fs.writeFile(`${cpusetDir}/c1/cpuset.cpus`, '1');
    await fs.writeFile(`${cpusetDir}/c2/cpuset.cpus`, '1');
    await fs.writeFile(`${cpusetDir}/cpuset.cpus`, '1');
    await expect(fs.writeFile(`${cpusetDir}/c1/cpuset.cpus`, '0-1')).rejects.toMatchObject({
      code: 'EACCES',
    });
    await fs.writeFile(`${cpuDir}/c1/cpu.cfs_quota_us`, '200000');
    await expect(fs.writeFile(`${cpuDir}/cpu.cfs_quota_us`, '100000')).rejects.toMatchObject({
      code: 'EINVAL',
    });
  });
});

describe('cpuset ordering', () => {
  it('shrinks children before the pod', async () => {
    const fs = v1Node([pod]);
    const report = (await (
      await agentOn(fs)
    ).applyPlan(lsePlan({ cpuset: '1', cfsQuotaUs: -1 }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    expect(order(fs, 'cpuset.cpus')).toEqual([
      'pod/c1/cpuset.cpus=1',
      'pod/c2/cpuset.cpus=1',
      'pod/cpuset.cpus=1',
    ]);
  });

  it('grows the pod before its children', async () => {
    const fs = v1Node([pod]);
    for (const dir of [`${cpusetDir}/c1`, `${cpusetDir}/c2`, cpusetDir])
      fs.files.set(`${dir}/cpuset.cpus`, '1');
    const report = (await (await agentOn(fs)).applyPlan(lsePlan({ cpuset: '0-3' }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    expect(order(fs, 'cpuset.cpus')).toEqual([
      'pod/cpuset.cpus=0-3',
      'pod/c1/cpuset.cpus=0-3',
      'pod/c2/cpuset.cpus=0-3',
    ]);
  });

  it('moves to disjoint CPUs through the union: pod grows, children move, pod shrinks', async () => {
    const fs = v1Node([pod]);
    for (const dir of [`${cpusetDir}/c1`, `${cpusetDir}/c2`, cpusetDir])
      fs.files.set(`${dir}/cpuset.cpus`, '0-1');
    fs.files.set('/cg/cpuset/kubepods/cpuset.cpus', '0-3');
    const report = (await (await agentOn(fs)).applyPlan(lsePlan({ cpuset: '2-3' }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    expect(order(fs, 'cpuset.cpus')).toEqual([
      'pod/cpuset.cpus=0-3',
      'pod/c1/cpuset.cpus=2-3',
      'pod/c2/cpuset.cpus=2-3',
      'pod/cpuset.cpus=2-3',
    ]);
  });

  it('sets cpuset.mems from the parent before cpuset.cpus on a fresh cgroup', async () => {
    const fs = v1Node([pod]);
    for (const dir of [`${cpusetDir}/c1`, `${cpusetDir}/c2`, cpusetDir]) {
      fs.files.set(`${dir}/cpuset.cpus`, '');
      fs.files.set(`${dir}/cpuset.mems`, '');
    }
    fs.files.set('/cg/cpuset/kubepods/cpuset.mems', '0-1');
    const report = (await (await agentOn(fs)).applyPlan(lsePlan({ cpuset: '2' }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    const cpusetWrites = fs.writes
      .filter(w => w.path.includes('/cpuset/'))
      .map(w => `${w.path.replace(/^.*pod[0-9a-f-]+/, 'pod')}=${w.data}`);
    expect(cpusetWrites).toEqual([
      'pod/cpuset.mems=0-1',
      'pod/c1/cpuset.mems=0-1',
      'pod/c2/cpuset.mems=0-1',
      'pod/cpuset.cpus=2',
      'pod/c1/cpuset.cpus=2',
      'pod/c2/cpuset.cpus=2',
    ]);
  });
});

describe('quota ordering (v1: a child may not exceed its parent)', () => {
  it('lowers containers before the pod, each to min(own limit, pod quota)', async () => {
    const fs = v1Node([pod]);
    fs.files.set(`${cpuDir}/c1/cpu.cfs_quota_us`, '300000');
    fs.files.set(`${cpuDir}/c2/cpu.cfs_quota_us`, '50000');
    const report = (await (
      await agentOn(fs)
    ).applyPlan(lsePlan({ cpuset: '0-3', cfsQuotaUs: 100000 }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    expect(order(fs, 'cpu.cfs_quota_us')).toEqual([
      'pod/c1/cpu.cfs_quota_us=100000',
      'pod/cpu.cfs_quota_us=100000',
    ]);
  });

  it('raises the pod before its containers, back up to their own limits', async () => {
    const fs = v1Node([pod]);
    fs.files.set(`${cpuDir}/c1/cpu.cfs_quota_us`, '300000');
    const agent = await agentOn(fs);
    await agent.applyPlan(lsePlan({ cfsQuotaUs: 100000 }));
    fs.writes.length = 0;
    const report = (await agent.applyPlan(lsePlan({ cfsQuotaUs: 400000 }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    expect(order(fs, 'cpu.cfs_quota_us')).toEqual([
      'pod/cpu.cfs_quota_us=400000',
      'pod/c1/cpu.cfs_quota_us=300000',
    ]);
  });

  it('lowers burst before the quota and writes the period after it', async () => {
    const fs = v1Node([pod]);
    fs.files.set(`${cpuDir}/cpu.cfs_quota_us`, '400000');
    fs.files.set(`${cpuDir}/cpu.cfs_burst_us`, '300000');
    const report = (await (
      await agentOn(fs)
    ).applyPlan(lsePlan({ cfsQuotaUs: 100000, cfsBurstUs: 50000, cfsPeriodUs: 50000 }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    const cpuWrites = fs.writes
      .filter(w => w.path.startsWith(`${cpuDir}/cpu.`))
      .map(w => w.path.split('/').pop());
    expect(cpuWrites).toEqual(['cpu.cfs_burst_us', 'cpu.cfs_quota_us', 'cpu.cfs_period_us']);
  });

  it('raises burst after the quota', async () => {
    const fs = v1Node([pod]);
    fs.files.set(`${cpuDir}/cpu.cfs_quota_us`, '100000');
    const report = (await (
      await agentOn(fs)
    ).applyPlan(lsePlan({ cfsQuotaUs: 400000, cfsBurstUs: 200000 }))) as PlanApplied;
    expect(report.pods[0]?.failed).toEqual([]);
    const cpuWrites = fs.writes
      .filter(w => w.path.startsWith(`${cpuDir}/cpu.`))
      .map(w => w.path.split('/').pop());
    expect(cpuWrites).toEqual(['cpu.cfs_quota_us', 'cpu.cfs_burst_us']);
  });

  it('the BE tier quota goes down pods-first and up tier-first', async () => {
    const bePod = { uid: uids.beBurstable, kubeQoS: 'Burstable' as const, containers: ['c1'] };
    const fs = v1Node([bePod]);
    const beCpu = v1PodDir('cpu', bePod);
    fs.files.set(`${beCpu}/cpu.cfs_quota_us`, '200000');
    fs.files.set(`${beCpu}/c1/cpu.cfs_quota_us`, '200000');
    const agent = await agentOn(fs);
    await agent.applyPlan(
      plan('n', [
        planPod({
          uid: bePod.uid,
          name: 'be',
          qosClass: 'BE',
          kubeQoS: 'Burstable',
          cpu: { cfsQuotaUs: 200000 },
        }),
      ]),
    );
    fs.writes.length = 0;
    const down = await agent.writeBeTierQuota(50000);
    expect([down.tier.failed, ...down.pods.map(p => p.failed)]).toEqual([[], []]);
    const short = (path: string): string =>
      path.replace('/cg/cpu/kubepods/', '').replace(/pod[0-9a-f-]+/, 'pod');
    expect(fs.writesTo('cpu.cfs_quota_us').map(w => `${short(w.path)}=${w.data}`)).toEqual([
      'burstable/pod/c1/cpu.cfs_quota_us=50000',
      'burstable/pod/cpu.cfs_quota_us=50000',
      'besteffort/cpu.cfs_quota_us=50000',
    ]);
    fs.writes.length = 0;
    await agent.writeBeTierQuota(150000);
    expect(fs.writesTo('cpu.cfs_quota_us').map(w => `${short(w.path)}=${w.data}`)).toEqual([
      'besteffort/cpu.cfs_quota_us=150000',
      'burstable/pod/cpu.cfs_quota_us=150000',
      'burstable/pod/c1/cpu.cfs_quota_us=150000',
    ]);
  });
});

describe('the suppress loop sink', () => {
  it('reads the tier quota, writes through the sink, and throws with the errno when the tier write fails', async () => {
    const fs = v1Node([]);
    const agent = await agentOn(fs);
    expect(await agent.readBeTierQuota()).toBe(-1);
    const sink = agent.beTierQuotaSink();
    await sink(40000);
    expect(fs.get('/cg/cpu/kubepods/besteffort/cpu.cfs_quota_us')).toBe('40000');
    expect(await agent.readBeTierQuota()).toBe(40000);
    fs.injections.push(path => (path.endsWith('besteffort/cpu.cfs_quota_us') ? 'EINVAL' : undefined));
    await expect(sink(20000)).rejects.toThrow(/not written: EINVAL/);
    await expect(sink(999)).rejects.toThrow(RangeError);
  });
});
