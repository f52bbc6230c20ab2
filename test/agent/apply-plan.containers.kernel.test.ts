// The agent against real containers on a real cgroup v1 kernel: test/support/kubepods.ts lays out a private
// nodeqos-test-* kubepods tree as kubelet's cgroupfs driver does, and podman + runc start each pod's container
// in it (the runtime creates the container cgroup, libpod-<id>, and attaches the process, as in production).
// The agent finds the containers by listing the pod cgroups and their processes by reading cgroup.procs; nothing
// is attached by hand. A container started after the plan was applied is picked up by the next pass.
// Skipped, with the reason printed, where podman/runc are missing (CI sets NODEQOS_REQUIRE_CONTAINERS=1).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplied } from '../../src/agent/apply-plan.ts';
import { containerSkipReason } from '../support/containers.ts';
import { KubepodsTree, type RunningContainer, type TestPod } from '../support/kubepods.ts';
import { plan, planPod, uids } from './helpers/plans.ts';

const skipReason = containerSkipReason(['podman', 'runc']);
if (skipReason !== undefined) console.log(`agent tests with real containers skipped: ${skipReason}`);

const nodeName = 'container-node';
const pods = {
  lse: { uid: uids.lse, kubeQoS: 'Guaranteed' },
  ls: { uid: uids.ls, kubeQoS: 'Burstable' },
  be: { uid: uids.be, kubeQoS: 'BestEffort' },
} as const satisfies Record<string, TestPod>;

async function read(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

async function canLowerOomScore(): Promise<boolean> {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(await read('/proc/self/status'))?.[1] ?? '0';
  return ((BigInt(`0x${capEff}`) >> 24n) & 1n) === 1n; // CAP_SYS_RESOURCE
}

function testPlan(): ReturnType<typeof plan> {
  return plan(nodeName, [
    planPod({
      uid: pods.lse.uid,
      name: 'lse',
      qosClass: 'LSE',
      kubeQoS: 'Guaranteed',
      cpu: { shares: 2048, cfsQuotaUs: 100000, cpuset: '1', pinned: 'exclusive' },
      memory: { maxBytes: 256 * 1024 * 1024 },
      oomScoreAdj: -997,
    }),
    planPod({
      uid: pods.ls.uid,
      name: 'ls',
      qosClass: 'LS',
      kubeQoS: 'Burstable',
      cpu: { shares: 1024, cpuset: '0' },
      memory: { maxBytes: 512 * 1024 * 1024 },
      oomScoreAdj: 500,
    }),
    planPod({
      uid: pods.be.uid,
      name: 'be',
      qosClass: 'BE',
      kubeQoS: 'BestEffort',
      cpu: { shares: 2, cpuset: '0-1' },
      oomScoreAdj: 1000,
    }),
  ]);
}

describe.skipIf(skipReason !== undefined)('node agent with containers started by podman + runc', () => {
  let tree: KubepodsTree | undefined;
  let stateDir = '';
  let agent: NodeAgent;
  let canLowerOom = false;
  const started: Partial<Record<keyof typeof pods | 'lsLate', RunningContainer>> = {};

  beforeAll(async () => {
    canLowerOom = await canLowerOomScore();
    tree = await KubepodsTree.create();
    stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-agent-state-'));
    // kubelet: pod cgroups with the pod-level quota, and each container's oom_score_adj from its QoS class.
    await tree.createPod(pods.lse, 200000);
    await tree.createPod(pods.ls);
    await tree.createPod(pods.be);
    started.lse = await tree.startContainer(pods.lse, { cpuQuotaUs: 200000 });
    started.ls = await tree.startContainer(pods.ls, { oomScoreAdj: 999 });
    started.be = await tree.startContainer(pods.be, { oomScoreAdj: 1000 });
    agent = await NodeAgent.create({
      nodeName,
      stateDir,
      kubepodsDir: tree.name,
      driver: 'cgroupfs',
      registry: new Registry(),
    });
  }, 120_000);

  afterAll(async () => {
    try {
      await tree?.cleanup();
    } finally {
      if (stateDir !== '') await rm(stateDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the runtime, not the test, created each container cgroup and put the process in it', async () => {
    const t = tree!;
    for (const [key, pod] of Object.entries(pods)) {
      const container = started[key as keyof typeof pods]!;
      expect(container.cgroup).toBe(`libpod-${container.id}`);
      for (const controller of ['cpu', 'cpuset', 'memory', 'blkio'])
        expect(await read(join(t.podDir(controller, pod, container.cgroup), 'cgroup.procs'))).toBe(
          String(container.pid),
        );
    }
    // runc wrote the container's CPU limit, as it does for kubelet.
    expect(await read(join(t.podDir('cpu', pods.lse, started.lse?.cgroup), 'cpu.cfs_quota_us'))).toBe(
      '200000',
    );
  }, 60_000);

  it('applies the plan to the pod and container cgroups the runtime made', async () => {
    const t = tree!;
    const report = (await agent.applyPlan(testPlan())) as PlanApplied;
    expect(report.status).not.toBe('refused');
    const lseFailures = canLowerOom
      ? []
      : [expect.objectContaining({ knob: 'oom_score_adj', container: started.lse?.cgroup, errno: 'EACCES' })];
    expect(report.pods.map(p => [p.name, p.outcome, p.failed])).toEqual([
      ['lse', canLowerOom ? 'applied' : 'failed', lseFailures],
      ['ls', 'applied', []],
      ['be', 'applied', []],
    ]);
    const lse = started.lse!;
    expect(await read(join(t.podDir('cpu', pods.lse), 'cpu.shares'))).toBe('2048');
    expect(await read(join(t.podDir('cpu', pods.lse), 'cpu.cfs_quota_us'))).toBe('100000');
    // The runtime's 2-CPU container limit had to come down before the pod's 1-CPU quota could be written.
    expect(await read(join(t.podDir('cpu', pods.lse, lse.cgroup), 'cpu.cfs_quota_us'))).toBe('100000');
    expect(await read(join(t.podDir('cpuset', pods.lse, lse.cgroup), 'cpuset.cpus'))).toBe('1');
    expect(await read(join(t.podDir('memory', pods.lse), 'memory.limit_in_bytes'))).toBe(
      String(256 * 1024 * 1024),
    );
    expect(await read(join(t.podDir('cpuset', pods.ls, started.ls?.cgroup), 'cpuset.cpus'))).toBe('0');
    expect(await read(join(t.podDir('cpu', pods.be), 'cpu.shares'))).toBe('2');
    // The containers run as uid 65534: these writes needed CAP_DAC_OVERRIDE, which this process has.
    expect(await read(`/proc/${started.ls?.pid}/oom_score_adj`)).toBe('500');
    expect(await read(`/proc/${started.be?.pid}/oom_score_adj`)).toBe('1000');
    expect(await read(`/proc/${lse.pid}/oom_score_adj`)).toBe(canLowerOom ? '-997' : '0');
  }, 60_000);

  it('a container started after the plan was applied gets the plan on the next pass, and only it', async () => {
    const t = tree!;
    const late = await t.startContainer(pods.ls, { oomScoreAdj: 999 });
    started.lsLate = late;
    // runc copies the pod's (already narrowed) cpuset into the new container cgroup.
    expect(await read(join(t.podDir('cpuset', pods.ls, late.cgroup), 'cpuset.cpus'))).toBe('0');
    expect(await read(`/proc/${late.pid}/oom_score_adj`)).toBe('999');
    const report = (await agent.applyPlan(testPlan())) as PlanApplied;
    const ls = report.pods.find(p => p.name === 'ls');
    expect(ls?.outcome).toBe('applied');
    expect(ls?.written.length).toBeGreaterThan(0);
    expect(ls?.written.filter(w => w.container !== late.cgroup)).toEqual([]);
    expect(await read(`/proc/${late.pid}/oom_score_adj`)).toBe('500');
    expect(report.pods.filter(p => p.name !== 'ls').flatMap(p => p.written)).toEqual([]);
  }, 60_000);

  it('a container that went away is not an error; deleting the plan restores what is left', async () => {
    const t = tree!;
    await t.stopContainer(started.lsLate!);
    const again = (await agent.applyPlan(testPlan())) as PlanApplied;
    expect(again.pods.find(p => p.name === 'ls')?.failed).toEqual([]);
    const restored = await agent.deletePlan();
    expect(restored.restored.map(p => [p.name, p.outcome])).toEqual(
      expect.arrayContaining([
        ['lse', 'restored'],
        ['ls', 'restored'],
        ['be', 'restored'],
      ]),
    );
    const lse = started.lse!;
    expect(await read(join(t.podDir('cpu', pods.lse), 'cpu.shares'))).toBe('1024');
    expect(await read(join(t.podDir('cpu', pods.lse), 'cpu.cfs_quota_us'))).toBe('200000');
    expect(await read(join(t.podDir('cpu', pods.lse, lse.cgroup), 'cpu.cfs_quota_us'))).toBe('200000');
    expect(await read(`/proc/${started.ls?.pid}/oom_score_adj`)).toBe('999');
  }, 60_000);
});
