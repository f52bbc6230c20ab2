// Real cgroup v1 kernel: a private "kubepods" root nodeqos-test-<random> under cpu, cpuset, memory and blkio,
// with an LSE (Guaranteed), an LS (Burstable), a BE (BestEffort) and a BE-class Burstable pod, each with one
// container running a real `sleep`. Applies a plan, reads every knob back, writes the BE tier quota, restores,
// and removes everything in afterAll even when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { removeDir } from '../support/kubepods.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeQoS } from '../../src/api/group.ts';
import { NodeAgent, type PlanApplied } from '../../src/agent/apply-plan.ts';
import { plan, planPod, uids } from './helpers/plans.ts';

const cgroupRoot = '/sys/fs/cgroup';
const controllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;
const testRoot = `nodeqos-test-${randomBytes(4).toString('hex')}`;
const container = 'c-main';
const nodeName = 'kernel-node';

interface TestPod {
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
  /** kubelet-like container quota set before the agent runs. */
  readonly containerQuota: number;
  readonly podQuota: number;
  /** Left as kubelet would create it on cpuset v1: empty cpuset.cpus and cpuset.mems, no process. */
  readonly fresh?: boolean;
}

const pods: Record<'lse' | 'ls' | 'be' | 'beBurstable' | 'fresh', TestPod> = {
  lse: { uid: uids.lse, kubeQoS: 'Guaranteed', containerQuota: 200000, podQuota: 200000 },
  ls: { uid: uids.ls, kubeQoS: 'Burstable', containerQuota: -1, podQuota: -1 },
  be: { uid: uids.be, kubeQoS: 'BestEffort', containerQuota: -1, podQuota: -1 },
  beBurstable: { uid: uids.beBurstable, kubeQoS: 'Burstable', containerQuota: 200000, podQuota: 200000 },
  fresh: {
    uid: '55555555-5555-4555-8555-555555555555',
    kubeQoS: 'Burstable',
    containerQuota: -1,
    podQuota: -1,
    fresh: true,
  },
};

function qosSegments(kubeQoS: KubeQoS): string[] {
  return kubeQoS === 'Guaranteed' ? [] : [kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'];
}

function dirOf(controller: string, pod?: TestPod, withContainer = false): string {
  const parts = [cgroupRoot, controller, testRoot];
  if (pod) parts.push(...qosSegments(pod.kubeQoS), `pod${pod.uid}`);
  if (withContainer) parts.push(container);
  return join(...parts);
}

async function read(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

const sleepers: ChildProcess[] = [];
const pidOf = new Map<string, number>();
let writable = true;
let stateDir = '';
let agent: NodeAgent;
let applied: PlanApplied;
/** Lowering oom_score_adj below 0 needs CAP_SYS_RESOURCE, which some containers drop. */
let canLowerOom = false;

async function hasSysResource(): Promise<boolean> {
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const capSysResource = 24n;
  return ((BigInt(`0x${capEff}`) >> capSysResource) & 1n) === 1n;
}

async function writableHierarchy(): Promise<boolean> {
  try {
    for (const controller of controllers) await access(join(cgroupRoot, controller), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function createTree(): Promise<void> {
  for (const controller of controllers) {
    const dirs = [
      dirOf(controller),
      join(dirOf(controller), 'burstable'),
      join(dirOf(controller), 'besteffort'),
    ];
    const fresh = new Set<string>();
    for (const pod of Object.values(pods)) {
      dirs.push(dirOf(controller, pod), dirOf(controller, pod, true));
      if (pod.fresh === true) fresh.add(dirOf(controller, pod)).add(dirOf(controller, pod, true));
    }
    for (const dir of dirs) {
      await mkdir(dir);
      if (controller === 'cpuset' && !fresh.has(dir)) {
        await writeFile(join(dir, 'cpuset.cpus'), '0-1');
        await writeFile(join(dir, 'cpuset.mems'), '0');
      }
    }
  }
  for (const pod of Object.values(pods)) {
    await writeFile(join(dirOf('cpu', pod), 'cpu.cfs_quota_us'), String(pod.podQuota));
    await writeFile(join(dirOf('cpu', pod, true), 'cpu.cfs_quota_us'), String(pod.containerQuota));
  }
}

async function startSleepers(): Promise<void> {
  for (const pod of Object.values(pods).filter(p => p.fresh !== true)) {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    sleepers.push(child);
    if (child.pid === undefined) throw new Error('sleep did not start');
    pidOf.set(pod.uid, child.pid);
    for (const controller of controllers)
      await writeFile(join(dirOf(controller, pod, true), 'cgroup.procs'), String(child.pid));
  }
}

async function stopSleepers(): Promise<void> {
  await Promise.all(
    sleepers.map(
      child =>
        new Promise<void>(resolve => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

function testPlan(): ReturnType<typeof plan> {
  const all = 'all';
  return plan(nodeName, [
    planPod({
      uid: pods.lse.uid,
      name: 'lse',
      qosClass: 'LSE',
      kubeQoS: 'Guaranteed',
      cpu: { shares: 2048, cfsQuotaUs: 100000, cpuset: '1', pinned: 'exclusive' },
      memory: { maxBytes: 256 * 1024 * 1024 },
      oomScoreAdj: -997,
      blkio: { weight: 1000, throttle: [] },
    }),
    planPod({
      uid: pods.ls.uid,
      name: 'ls',
      qosClass: 'LS',
      kubeQoS: 'Burstable',
      cpu: { shares: 1024, cpuset: '0' },
      memory: { maxBytes: 512 * 1024 * 1024, lowBytes: 128 * 1024 * 1024 },
      oomScoreAdj: 500,
      blkio: { weight: 500, throttle: [{ device: all, readBps: 10485760, writeIops: 100 }] },
    }),
    planPod({
      uid: pods.be.uid,
      name: 'be',
      qosClass: 'BE',
      kubeQoS: 'BestEffort',
      cpu: { shares: 2, cpuset: '0-1' },
      oomScoreAdj: 1000,
      blkio: { weight: 10, throttle: [{ device: '/dev/vda', writeBps: 1048576 }] },
    }),
    planPod({
      uid: pods.fresh.uid,
      name: 'fresh',
      qosClass: 'LS',
      kubeQoS: 'Burstable',
      cpu: { cpuset: '0-1' },
    }),
    planPod({
      uid: pods.beBurstable.uid,
      name: 'be-burstable',
      qosClass: 'BE',
      kubeQoS: 'Burstable',
      cpu: { shares: 2, cfsQuotaUs: 200000, cpuset: '0-1' },
      oomScoreAdj: 1000,
    }),
  ]);
}

describe('node agent on a real cgroup v1 kernel', () => {
  beforeAll(async () => {
    writable = await writableHierarchy();
    if (!writable) {
      console.warn('skipping kernel tests: /sys/fs/cgroup/{cpu,cpuset,memory,blkio} is not writable');
      return;
    }
    canLowerOom = await hasSysResource();
    stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-agent-state-'));
    await createTree();
    await startSleepers();
    agent = await NodeAgent.create({
      nodeName,
      stateDir,
      kubepodsDir: testRoot,
      driver: 'cgroupfs',
      registry: new Registry(),
    });
  });

  afterAll(async () => {
    try {
      await stopSleepers();
    } finally {
      for (const controller of controllers) await removeDir(dirOf(controller));
      if (stateDir !== '') await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('discovers a v1 node with cgroupfs naming', ({ skip }) => {
    if (!writable) skip();
    expect(agent.mode.version).toBe('v1');
    expect(['v1', 'hybrid']).toContain(agent.mode.hierarchy);
  });

  it('applies the plan and every knob reads back', async ({ skip }) => {
    if (!writable) skip();
    const report = await agent.applyPlan(testPlan());
    expect(report.status).not.toBe('refused');
    applied = report as PlanApplied;
    const lseFailures = canLowerOom
      ? []
      : [expect.objectContaining({ knob: 'oom_score_adj', container, errno: 'EACCES' })];
    expect(applied.pods.map(p => [p.name, p.outcome, p.failed])).toEqual([
      ['lse', canLowerOom ? 'applied' : 'failed', lseFailures],
      ['ls', 'applied', []],
      ['be', 'applied', []],
      ['fresh', 'applied', []],
      ['be-burstable', 'applied', []],
    ]);
    const lse = pods.lse;
    expect(await read(join(dirOf('cpu', lse), 'cpu.shares'))).toBe('2048');
    expect(await read(join(dirOf('cpu', lse), 'cpu.cfs_quota_us'))).toBe('100000');
    expect(await read(join(dirOf('cpu', lse), 'cpu.cfs_period_us'))).toBe('100000');
    // The container's 2-CPU limit had to come down first: v1 refuses a child quota above its parent's.
    expect(await read(join(dirOf('cpu', lse, true), 'cpu.cfs_quota_us'))).toBe('100000');
    expect(await read(join(dirOf('cpuset', lse), 'cpuset.cpus'))).toBe('1');
    expect(await read(join(dirOf('cpuset', lse, true), 'cpuset.cpus'))).toBe('1');
    expect(await read(join(dirOf('memory', lse), 'memory.limit_in_bytes'))).toBe(String(256 * 1024 * 1024));
    const ls = pods.ls;
    expect(await read(join(dirOf('cpuset', ls), 'cpuset.cpus'))).toBe('0');
    expect(await read(join(dirOf('memory', ls), 'memory.limit_in_bytes'))).toBe(String(512 * 1024 * 1024));
    expect(await read(join(dirOf('memory', ls), 'memory.soft_limit_in_bytes'))).toBe(
      String(128 * 1024 * 1024),
    );
  });

  it('fills cpuset.mems from the parent before cpuset.cpus on a fresh cpuset cgroup', async ({ skip }) => {
    if (!writable) skip();
    for (const dir of [dirOf('cpuset', pods.fresh), dirOf('cpuset', pods.fresh, true)]) {
      expect(await read(join(dir, 'cpuset.mems'))).toBe('0');
      expect(await read(join(dir, 'cpuset.cpus'))).toBe('0-1');
    }
  });

  it('writes blkio weight where a weight file exists and throttles whole disks', async ({ skip }) => {
    if (!writable) skip();
    const weightFile = (await readdir(dirOf('blkio', pods.lse))).find(
      f => f === 'blkio.weight' || f === 'blkio.bfq.weight',
    );
    const lse = applied.pods.find(p => p.name === 'lse');
    if (weightFile === undefined) {
      expect(lse?.unsupported.map(u => u.knob)).toContain('blkio.weight');
    } else {
      expect(await read(join(dirOf('blkio', pods.lse), weightFile))).toMatch(/^(default )?1000$/);
    }
    const vda = (await read('/sys/block/vda/dev').catch(() => '')) || undefined;
    if (vda !== undefined) {
      expect(await read(join(dirOf('blkio', pods.ls), 'blkio.throttle.read_bps_device'))).toBe(
        `${vda} 10485760`,
      );
      expect(await read(join(dirOf('blkio', pods.ls), 'blkio.throttle.write_iops_device'))).toBe(
        `${vda} 100`,
      );
      expect(await read(join(dirOf('blkio', pods.be), 'blkio.throttle.write_bps_device'))).toBe(
        `${vda} 1048576`,
      );
    }
  });

  it('sets oom_score_adj on the container processes (or reports EACCES without CAP_SYS_RESOURCE)', async ({
    skip,
  }) => {
    if (!writable) skip();
    expect(await read(`/proc/${pidOf.get(pods.lse.uid)}/oom_score_adj`)).toBe(canLowerOom ? '-997' : '0');
    expect(await read(`/proc/${pidOf.get(pods.ls.uid)}/oom_score_adj`)).toBe('500');
    expect(await read(`/proc/${pidOf.get(pods.be.uid)}/oom_score_adj`)).toBe('1000');
  });

  it('a second pass writes nothing; a failed pod waits out its backoff', async ({ skip }) => {
    if (!writable) skip();
    const again = (await agent.applyPlan(testPlan())) as PlanApplied;
    expect(again.pods.flatMap(p => p.written)).toEqual([]);
    expect(again.pods.map(p => p.outcome)).toEqual([
      canLowerOom ? 'applied' : 'backoff',
      'applied',
      'applied',
      'applied',
      'applied',
    ]);
  });

  it('writes the BE tier quota, capping the BE pod under burstable/ child-first', async ({ skip }) => {
    if (!writable) skip();
    const tier = await agent.writeBeTierQuota(50000);
    expect(tier.tier.failed).toEqual([]);
    expect(tier.pods.flatMap(p => p.failed)).toEqual([]);
    expect(await read(join(dirOf('cpu'), 'besteffort', 'cpu.cfs_quota_us'))).toBe('50000');
    expect(await read(join(dirOf('cpu', pods.beBurstable), 'cpu.cfs_quota_us'))).toBe('50000');
    expect(await read(join(dirOf('cpu', pods.beBurstable, true), 'cpu.cfs_quota_us'))).toBe('50000');
    expect(await read(join(dirOf('cpu', pods.be), 'cpu.cfs_quota_us'))).toBe('-1');
    await agent.writeBeTierQuota(-1);
    expect(await read(join(dirOf('cpu'), 'besteffort', 'cpu.cfs_quota_us'))).toBe('-1');
    expect(await read(join(dirOf('cpu', pods.beBurstable), 'cpu.cfs_quota_us'))).toBe('200000');
    expect(await read(join(dirOf('cpu', pods.beBurstable, true), 'cpu.cfs_quota_us'))).toBe('200000');
  });

  it('restores every original value when the plan is deleted', async ({ skip }) => {
    if (!writable) skip();
    const restored = await agent.deletePlan();
    expect(restored.restored.map(p => [p.name, p.outcome, p.failed])).toEqual(
      expect.arrayContaining([
        ['lse', 'restored', []],
        ['ls', 'restored', []],
        ['be', 'restored', []],
        ['be-burstable', 'restored', []],
        ['fresh', 'restored', []],
      ]),
    );
    const lse = pods.lse;
    expect(await read(join(dirOf('cpu', lse), 'cpu.shares'))).toBe('1024');
    expect(await read(join(dirOf('cpu', lse), 'cpu.cfs_quota_us'))).toBe('200000');
    expect(await read(join(dirOf('cpu', lse, true), 'cpu.cfs_quota_us'))).toBe('200000');
    expect(await read(join(dirOf('cpuset', lse), 'cpuset.cpus'))).toBe('0-1');
    expect(await read(join(dirOf('cpuset', lse, true), 'cpuset.cpus'))).toBe('0-1');
    expect(await read(join(dirOf('memory', lse), 'memory.limit_in_bytes'))).toBe('9223372036854771712');
    expect(await read(join(dirOf('memory', pods.ls), 'memory.soft_limit_in_bytes'))).toBe(
      '9223372036854771712',
    );
    expect(await read(join(dirOf('blkio', pods.ls), 'blkio.throttle.read_bps_device'))).toBe('');
    expect(await read(`/proc/${pidOf.get(pods.ls.uid)}/oom_score_adj`)).toBe('0');
    expect(await read(`/proc/${pidOf.get(pods.be.uid)}/oom_score_adj`)).toBe('0');
  });
});
