// The mechanisms on their own, through a real CgroupSession on an in-memory cgroupfs: which files each owns, what it
// wants for a plan pod (and what it reports the node cannot enforce), kubelet's defaults for a lost record, and the
// cpu mechanism's tier pass (cpu.idle and the weight it hides). The executor tests cover the writes end to end.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeQoS } from '../../../src/api/group.ts';
import { CgroupLayout, type CgroupVersion } from '../../../src/agent/cgroup/layout.ts';
import { ExecutorMetrics } from '../../../src/agent/executor/metrics.ts';
import { RewriteTracker } from '../../../src/agent/executor/rewrite-tracker.ts';
import { CgroupSession } from '../../../src/agent/executor/session.ts';
import type {
  Mechanism,
  TierOriginals,
  TierPass,
  TierPlan,
} from '../../../src/agent/mechanisms/core/mechanism.ts';
import type { WriteOp } from '../../../src/agent/mechanisms/core/session.ts';
import { knobsByFile, mechanismsFor, type NodeMechanisms } from '../../../src/agent/mechanisms/index.ts';
import { OriginalValues } from '../../../src/agent/restore/original-values.ts';
import { MemoryFs } from '../helpers/memory-fs.ts';
import { planPod, uids } from '../helpers/plans.ts';

let stateDir = '';
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-mechanisms-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function node(version: CgroupVersion, netClassids = false): NodeMechanisms {
  return mechanismsFor({ version, pageSize: 4096, netClassids });
}

function byName(mechanisms: readonly Mechanism[], name: string): Mechanism {
  const found = mechanisms.find(m => m.name === name);
  if (!found) throw new Error(`no ${name} mechanism`);
  return found;
}

async function podSession(
  fs: MemoryFs,
  version: CgroupVersion,
  kubeQoS: KubeQoS = 'Burstable',
): Promise<CgroupSession> {
  const layout = new CgroupLayout({ cgroupRoot: '/cg', version, driver: 'cgroupfs' });
  const store = await OriginalValues.load(stateDir, pino({ enabled: false }));
  const identity = { uid: uids.ls, namespace: 'default', name: 'ls', kubeQoS };
  const deps = {
    fs,
    layout,
    store,
    metrics: new ExecutorMetrics(new Registry()),
    logger: pino({ enabled: false }),
    rewrite: new RewriteTracker(60_000, Date.now),
    refusals: {},
  };
  return new CgroupSession(deps, {
    identity,
    recordOriginals: true,
    dirOf: controller => layout.podDir(controller, identity.uid, kubeQoS),
    parentDirOf: controller => layout.qosDir(controller, kubeQoS),
  });
}

describe('mechanism registry', () => {
  it('runs cpuset, cpu, memory, blkio and net_cls in that order; net_cls only when pods are tagged', () => {
    expect(node('v1', true).all.map(m => m.name)).toEqual(['cpuset', 'cpu', 'memory', 'blkio', 'net_cls']);
    expect(node('v1').all.map(m => m.name)).toEqual(['cpuset', 'cpu', 'memory', 'blkio']);
    expect(node('v2', true).all.map(m => m.name)).toEqual(['cpuset', 'cpu', 'memory', 'blkio']);
  });

  it('gives every file exactly one owner', () => {
    for (const mechanisms of [node('v1', true).all, node('v2').all]) {
      const files = mechanisms.flatMap(m => m.knobs.map(k => k.file));
      expect(new Set(files).size).toBe(files.length);
      expect([...knobsByFile(mechanisms).keys()].sort()).toEqual([...files].sort());
    }
    expect([...knobsByFile(node('v2').all).keys()].sort()).toEqual([
      'cpu.idle',
      'cpu.max',
      'cpu.max.burst',
      'cpu.weight',
      'cpuset.cpus',
      'io.bfq.weight',
      'io.max',
      'io.weight',
      'memory.high',
      'memory.low',
      'memory.max',
      'memory.min',
    ]);
  });
});

describe('what a mechanism wants for a plan pod', () => {
  const tier = { quotaUs: 200000, periodUs: 100000 };

  it('cpu: a BE pod is capped at the tier quota and its burst at its quota (v1); weight converted (v2)', async () => {
    const pod = planPod({
      uid: uids.be,
      name: 'be',
      qosClass: 'BE',
      kubeQoS: 'Burstable',
      cpu: { cfsQuotaUs: 400000, cfsBurstUs: 300000, shares: 2 },
    });
    const facts = { devices: [], beTier: tier };
    const v1 = await byName(node('v1').all, 'cpu').want(pod, facts, await podSession(new MemoryFs(), 'v1'));
    expect(Object.fromEntries(v1.values)).toEqual({
      'cpu.shares': 2,
      'cpu.cfs_quota_us': 200000,
      'cpu.cfs_period_us': 100000,
      'cpu.cfs_burst_us': 200000,
    });
    const v2 = await byName(node('v2').all, 'cpu').want(pod, facts, await podSession(new MemoryFs(), 'v2'));
    expect(v2.values.get('cpu.weight')).toBe(1);
    expect(v2.values.get('cpu.max')).toEqual(tier);
  });

  it('memory: v1 reports memory.min and memory.high as not enforced, and "no protection" as no soft limit', async () => {
    const pod = planPod({
      uid: uids.ls,
      name: 'ls',
      qosClass: 'LS',
      kubeQoS: 'Burstable',
      memory: { minBytes: 1 << 20, lowBytes: 0, highBytes: 1 << 30, maxBytes: 2 << 30 },
    });
    const facts = { devices: [], beTier: null };
    const wanted = await byName(node('v1').all, 'memory').want(
      pod,
      facts,
      await podSession(new MemoryFs(), 'v1'),
    );
    expect(wanted.unsupported.map(u => u.knob)).toEqual(['memory.min', 'memory.high']);
    expect(Object.fromEntries(wanted.values)).toEqual({
      'memory.limit_in_bytes': 2 << 30,
      'memory.soft_limit_in_bytes': null,
    });
  });

  it('blkio: the weight goes to the weight file the pod has, else it is reported', async () => {
    const pod = planPod({ uid: uids.ls, name: 'ls', qosClass: 'LS', kubeQoS: 'Burstable' });
    const facts = { devices: [], beTier: null };
    const blkio = byName(node('v1').all, 'blkio');
    const fs = new MemoryFs();
    fs.cgroup(`/cg/blkio/kubepods/burstable/pod${uids.ls}`, { 'blkio.bfq.weight': '100' });
    const bfq = await blkio.want(pod, facts, await podSession(fs, 'v1'));
    expect(bfq.values.get('blkio.bfq.weight')).toBe(100);
    expect(bfq.values.has('blkio.weight')).toBe(false);
    // Another pass (new facts): a pass remembers which weight file its QoS directories carry.
    const none = await blkio.want(pod, { ...facts }, await podSession(new MemoryFs(), 'v1'));
    expect(none.unsupported.map(u => u.knob)).toEqual(['blkio.weight']);
  });
});

describe("kubelet's defaults for a pod whose record is lost", () => {
  it('cpuset takes the parent cpuset; cpu puts burst to 0 and leaves what the pod spec decides', async () => {
    const fs = new MemoryFs();
    fs.cgroup('/cg/cpuset/kubepods/burstable', { 'cpuset.cpus': '0-3' });
    const session = await podSession(fs, 'v1');
    const mechanisms = node('v1', true).all;
    const cpuset = await byName(mechanisms, 'cpuset').kubeletDefaults(session);
    expect(Object.fromEntries(cpuset.values)).toEqual({ 'cpuset.cpus': '0-3' });
    const cpu = await byName(mechanisms, 'cpu').kubeletDefaults(session);
    expect(Object.fromEntries(cpu.values)).toEqual({ 'cpu.cfs_burst_us': 0 });
    expect(cpu.leftAsIs.map(l => l.knob)).toEqual(['cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us']);
    const netCls = await byName(mechanisms, 'net_cls').kubeletDefaults(session);
    expect(Object.fromEntries(netCls.values)).toEqual({ 'net_cls.classid': 0 });
  });
});

describe('the cpu tier pass (cpu.idle on the besteffort directory)', () => {
  const tierDir = '/cg/kubepods/besteffort';

  async function tierSession(fs: MemoryFs): Promise<CgroupSession> {
    const layout = new CgroupLayout({ cgroupRoot: '/cg', version: 'v2', driver: 'cgroupfs' });
    const deps = {
      fs,
      layout,
      store: await OriginalValues.load(stateDir, pino({ enabled: false })),
      metrics: new ExecutorMetrics(new Registry()),
      logger: pino({ enabled: false }),
      rewrite: new RewriteTracker(60_000, Date.now),
      refusals: {},
    };
    return new CgroupSession(deps, {
      identity: { uid: '', namespace: '', name: 'kubepods-besteffort', kubeQoS: 'BestEffort' },
      recordOriginals: false,
      dirOf: () => tierDir,
      parentDirOf: () => '/cg/kubepods',
    });
  }

  function memoryOriginals(lost = false): TierOriginals & { values: Map<string, unknown> } {
    const values = new Map<string, unknown>();
    return {
      values,
      lost,
      get: file => values.get(file),
      recordIfAbsent: (file, value) => {
        if (!values.has(file)) values.set(file, value);
      },
    };
  }

  function tierPass(session: CgroupSession, originals: TierOriginals, plan: TierPlan): TierPass {
    const pass = node('v2').cpu.tier?.(session, originals, plan);
    if (!pass) throw new Error('the cpu mechanism has no tier pass');
    return pass;
  }

  /** What the executor does: commit each batch before the pass goes on. */
  async function drive(
    pass: TierPass,
    session: CgroupSession,
  ): Promise<{ batches: (readonly WriteOp[])[]; result: string }> {
    const batches: (readonly WriteOp[])[] = [];
    let step = await pass.next();
    while (step.done !== true) {
      batches.push(step.value);
      await session.commit(step.value);
      step = await pass.next();
    }
    return { batches, result: step.value };
  }

  it('saves cpu.idle and the weight before asking for idle, and restores idle before the weight', async () => {
    const fs = new MemoryFs();
    fs.cgroup(tierDir, { 'cpu.idle': '0', 'cpu.weight': '50' });
    const originals = memoryOriginals();
    const on = await drive(tierPass(await tierSession(fs), originals, { idle: true }), await tierSession(fs));
    expect(on.batches).toMatchObject([[{ file: 'cpu.idle', to: '1' }]]);
    expect(on.result).toBe('kept');
    expect(Object.fromEntries(originals.values)).toEqual({ 'cpu.idle': 0, 'cpu.weight': 50 });
    expect(fs.get(`${tierDir}/cpu.idle`)).toBe('1');
    // What the kernel does while idle: the weight reads as the default.
    fs.files.set(`${tierDir}/cpu.weight`, '100');
    const off = await drive(
      tierPass(await tierSession(fs), originals, { idle: false }),
      await tierSession(fs),
    );
    expect(off.batches).toMatchObject([
      [{ file: 'cpu.idle', to: '0' }],
      [{ file: 'cpu.weight', from: '100', to: '50' }],
    ]);
    expect(off.result).toBe('restored');
    expect(fs.get(`${tierDir}/cpu.weight`)).toBe('50');
  });

  it('with the record lost, an idle tier nobody asks for gets kubelet values (idle 0, weight 1 on v2)', async () => {
    const fs = new MemoryFs();
    fs.cgroup(tierDir, { 'cpu.idle': '1', 'cpu.weight': '100' });
    const session = await tierSession(fs);
    const off = await drive(tierPass(session, memoryOriginals(true), { idle: false }), session);
    expect(off.batches).toMatchObject([[{ file: 'cpu.idle', to: '0' }], [{ file: 'cpu.weight', to: '1' }]]);
    expect(off.result).toBe('restored');
    // Asked for while lost: an already idle tier is not its own original.
    fs.files.set(`${tierDir}/cpu.idle`, '1');
    const originals = memoryOriginals(true);
    const on = await drive(tierPass(await tierSession(fs), originals, { idle: true }), session);
    expect(on.batches).toEqual([]);
    expect(Object.fromEntries(originals.values)).toEqual({ 'cpu.idle': 0, 'cpu.weight': 1 });
  });

  it('reads nothing when idle is neither wanted nor was ever set by the agent', async () => {
    const fs = new MemoryFs();
    const session = await tierSession(fs);
    const pass = tierPass(session, memoryOriginals(), { idle: false });
    expect(await pass.next()).toEqual({ done: true, value: 'kept' });
    expect(session.report.failed).toEqual([]);
    expect(session.report.unsupported).toEqual([]);
  });
});
