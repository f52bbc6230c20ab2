// Executor behaviour on an in-memory v1 node: error isolation and backoff, vanished pods and containers, range
// refusals, unsupported knobs, forced rewrites, device resolution, metrics and one log line per change.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplied } from '../../../src/agent/apply-plan.ts';
import type { PlanPod } from '../../../src/api/plan.ts';
import { plan, planPod, uids } from '../helpers/plans.ts';
import type { MemoryFs } from '../helpers/memory-fs.ts';
import { v1Node, v1PodDir } from '../helpers/trees.ts';
import { memoryNodeAgent } from '../helpers/memory-agent.ts';

const podA = {
  uid: uids.lse,
  kubeQoS: 'Guaranteed' as const,
  containers: ['c1', 'c2'],
  pids: { c1: 201, c2: 202 },
};
const podB = { uid: uids.ls, kubeQoS: 'Burstable' as const, containers: ['c1'], pids: { c1: 203 } };
const podC = { uid: uids.be, kubeQoS: 'BestEffort' as const, containers: ['c1'] };

let stateDir = '';
let clock = 1_000_000;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-v1-'));
  clock = 1_000_000;
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

interface Harness {
  fs: MemoryFs;
  agent: NodeAgent;
  registry: Registry;
  logs: Record<string, unknown>[];
}

async function harness(fs = v1Node([podA, podB, podC])): Promise<Harness> {
  const registry = new Registry();
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  const agent = await memoryNodeAgent({
    fs,
    stateDir,
    registry,
    logger: pino({ level: 'info' }, stream),
    now: () => clock,
  });
  return { fs, agent, registry, logs };
}

function pods(
  overrides: Partial<Record<'a' | 'b' | 'c', Partial<Parameters<typeof planPod>[0]>>> = {},
): PlanPod[] {
  return [
    planPod({
      uid: podA.uid,
      name: 'a',
      qosClass: 'LSE',
      kubeQoS: 'Guaranteed',
      cpu: { shares: 2048, cpuset: '2-3', cfsQuotaUs: 200000 },
      oomScoreAdj: 300,
      ...overrides.a,
    }),
    planPod({
      uid: podB.uid,
      name: 'b',
      qosClass: 'LS',
      kubeQoS: 'Burstable',
      cpu: { shares: 512, cpuset: '0-1' },
      oomScoreAdj: 500,
      ...overrides.b,
    }),
    planPod({
      uid: podC.uid,
      name: 'c',
      qosClass: 'BE',
      kubeQoS: 'BestEffort',
      cpu: { shares: 2, cpuset: '0-3' },
      oomScoreAdj: 1000,
      ...overrides.c,
    }),
  ];
}

async function apply(h: Harness, planPods = pods()): Promise<PlanApplied> {
  const report = await h.agent.applyPlan(plan('n', planPods));
  if (report.status === 'refused') throw new Error(`refused: ${report.reason}`);
  return report;
}

function byName(report: PlanApplied, name: string): PlanApplied['pods'][number] {
  const found = report.pods.find(p => p.name === name);
  if (!found) throw new Error(`no report for ${name}`);
  return found;
}

describe('error isolation and backoff', () => {
  it('records the errno per pod and knob; other pods are applied', async () => {
    const h = await harness();
    h.fs.injections.push(path => (path === `${v1PodDir('cpu', podA)}/cpu.shares` ? 'EBUSY' : undefined));
    const report = await apply(h);
    expect(byName(report, 'a')).toMatchObject({
      outcome: 'failed',
      failed: [{ knob: 'cpu.shares', errno: 'EBUSY' }],
    });
    expect(byName(report, 'b').outcome).toBe('applied');
    expect(byName(report, 'c').outcome).toBe('applied');
    // The pod's other knobs still got written.
    expect(h.fs.get(`${v1PodDir('cpuset', podA)}/cpuset.cpus`)).toBe('2-3');
    expect(report.status).toBe('degraded');
    expect(report.podFailures).toEqual([
      { pod: 'default/a', knob: 'cpu.shares', message: expect.stringContaining('EBUSY') as string },
    ]);
    const errors = await h.registry.getSingleMetric('nodeqos_cgroup_write_errors_total')?.get();
    expect(errors?.values).toContainEqual(
      expect.objectContaining({ labels: { knob: 'cpu.shares', errno: 'EBUSY' }, value: 1 }),
    );
  });

  it('retries a failed pod with exponential backoff, and at once when its plan entry changes', async () => {
    const h = await harness();
    let failing = true;
    h.fs.injections.push(path =>
      failing && path === `${v1PodDir('cpu', podA)}/cpu.shares` ? 'EINVAL' : undefined,
    );
    const first = await apply(h);
    expect(byName(first, 'a').retryAt).toBe(clock + 1000);
    clock += 500;
    const waiting = await apply(h);
    expect(byName(waiting, 'a')).toMatchObject({ outcome: 'backoff', retryAt: 1_001_000 });
    clock += 600;
    const second = await apply(h);
    expect(byName(second, 'a')).toMatchObject({ outcome: 'failed', retryAt: clock + 2000 });
    const changed = await apply(h, pods({ a: { oomScoreAdj: 250 } }));
    expect(byName(changed, 'a').outcome).toBe('failed');
    failing = false;
    clock += 10_000;
    const healed = await apply(h, pods({ a: { oomScoreAdj: 250 } }));
    expect(byName(healed, 'a').outcome).toBe('applied');
    expect(h.fs.get(`${v1PodDir('cpu', podA)}/cpu.shares`)).toBe('2048');
  });
});

describe('vanished cgroups', () => {
  it('a pod without a cgroup is reported vanished, not failed', async () => {
    const h = await harness(v1Node([podB, podC]));
    const report = await apply(h);
    expect(byName(report, 'a')).toMatchObject({ outcome: 'vanished', failed: [] });
    expect(report.status).toBe('applied');
  });

  it('a container removed during the pass is reported and skipped', async () => {
    const h = await harness();
    const c1 = `${v1PodDir('cpuset', podA)}/c1`;
    h.fs.injections.push(path => {
      if (path !== `${c1}/cpuset.cpus`) return undefined;
      h.fs.remove(c1);
      return 'ENOENT';
    });
    const report = await apply(h);
    expect(byName(report, 'a')).toMatchObject({ outcome: 'applied', failed: [], vanishedContainers: ['c1'] });
    expect(h.fs.get(`${v1PodDir('cpuset', podA)}/c2/cpuset.cpus`)).toBe('2-3');
  });
});

describe('range checks before writing', () => {
  it('refuses burst without a quota, an empty cpuset and an iops rate the kernel would clamp', async () => {
    const h = await harness();
    const planPods = pods({
      a: { cpu: { shares: 2048, cpuset: '', cfsQuotaUs: -1 } },
      b: { blkio: { weight: 100, throttle: [{ device: 'all', readIops: 2 ** 32 }] } },
    });
    // Burst without a quota: the plan schema refuses it (docs/decisions/0115), so the agent refuses the whole
    // plan and writes nothing, rather than choosing a value of its own.
    const withBurst = plan('n', planPods);
    const a = withBurst.spec.pods[0];
    if (!a) throw new Error('no pod a');
    a.cpu.cfsBurstUs = 5000;
    const refused = await h.agent.applyPlan(withBurst);
    expect(refused.status).toBe('refused');
    expect(h.fs.writesTo('cpu.cfs_burst_us')).toEqual([]);
    const report = await apply(h, planPods);
    expect(byName(report, 'a').failed.map(f => [f.knob, f.errno])).toEqual([['cpuset.cpus', 'ERANGE']]);
    expect(byName(report, 'b').failed.map(f => [f.knob, f.errno])).toEqual([
      ['blkio.throttle.read_iops_device', 'ERANGE'],
    ]);
    expect(h.fs.writesTo('cpu.cfs_burst_us')).toEqual([]);
    expect(h.fs.writesTo('read_iops_device')).toEqual([]);
    expect(h.fs.get(`${v1PodDir('cpuset', podA)}/cpuset.cpus`)).toBe('0-3');
  });
});

describe('unsupported knobs are reported, never silently dropped', () => {
  it('memory.min and memory.high on v1, a missing blkio weight file and a missing burst file', async () => {
    const fs = v1Node([podA, podB, podC]);
    for (const file of [...fs.files.keys()])
      if (file.endsWith('/blkio.weight') || file.endsWith('/cpu.cfs_burst_us')) fs.files.delete(file);
    const h = await harness(fs);
    const report = await apply(h, pods({ b: { memory: { minBytes: 1 << 20, highBytes: 1 << 30 } } }));
    expect(
      byName(report, 'b')
        .unsupported.map(u => u.knob)
        .sort(),
    ).toEqual(['blkio.weight', 'cpu.cfs_burst_us', 'memory.high', 'memory.min']);
    expect(
      byName(report, 'a')
        .unsupported.map(u => u.knob)
        .sort(),
    ).toEqual(['blkio.weight', 'cpu.cfs_burst_us']);
    expect(byName(report, 'b').outcome).toBe('applied');
    expect(report.unsupported).toEqual(
      expect.arrayContaining([expect.stringMatching(/^memory\.min: cgroup v1/)]),
    );
  });

  it('uses blkio.bfq.weight when blkio.weight is absent', async () => {
    const fs = v1Node([podA]);
    for (const file of [...fs.files.keys()]) {
      if (file.endsWith('/blkio.weight')) {
        fs.files.delete(file);
        fs.files.set(file.replace('blkio.weight', 'blkio.bfq.weight'), 'default 100');
      }
    }
    const h = await harness(fs);
    await apply(
      h,
      pods()
        .slice(0, 1)
        .map(p => ({ ...p, blkio: { weight: 800, throttle: [] } })),
    );
    expect(h.fs.get(`${v1PodDir('blkio', podA)}/blkio.bfq.weight`)).toBe('800');
  });
});

describe('throttle devices', () => {
  it("'all' is every whole disk but loop and zram; partitions and unknown paths are unsupported; dropped rules are removed", async () => {
    const h = await harness();
    const throttle = [
      { device: 'all', readBps: 1000 },
      { device: '/dev/sda', writeIops: 50 },
      { device: '/dev/sda1', writeBps: 5 },
      { device: '/dev/mapper/nope', writeBps: 5 },
      { device: '9:3', readBps: 7 },
    ];
    const first = await apply(h, pods({ b: { blkio: { weight: 100, throttle } } }));
    const dir = v1PodDir('blkio', podB);
    expect(h.fs.get(`${dir}/blkio.throttle.read_bps_device`)).toBe('8:0 1000\n9:3 7');
    expect(h.fs.get(`${dir}/blkio.throttle.write_iops_device`)).toBe('8:0 50');
    expect(byName(first, 'b').unsupported.map(u => u.reason)).toEqual([
      expect.stringContaining('/dev/sda1 is not a whole disk'),
      expect.stringContaining('/dev/mapper/nope is not a whole disk'),
    ]);
    h.fs.writes.length = 0;
    await apply(h, pods({ b: { blkio: { weight: 100, throttle: [{ device: 'all', readBps: 1000 }] } } }));
    expect(h.fs.writes.map(w => `${w.path.split('/').pop()} ${w.data}`)).toEqual([
      'blkio.throttle.read_bps_device 9:3 0',
      'blkio.throttle.write_iops_device 8:0 0',
    ]);
  });
});

describe('read before write and forced rewrites', () => {
  it('skips equal values and rewrites them once the forced interval has passed', async () => {
    const h = await harness();
    await apply(h);
    h.fs.writes.length = 0;
    clock += 30_000;
    const quiet = await apply(h);
    expect(h.fs.writes).toEqual([]);
    expect(byName(quiet, 'a').skipped.length).toBeGreaterThan(5);
    clock += 31_000;
    await apply(h);
    const rewritten = new Set(h.fs.writes.map(w => w.path.split('/').pop()));
    expect(rewritten).toEqual(
      new Set([
        'cpu.shares',
        'cpu.cfs_quota_us',
        'cpu.cfs_period_us',
        'cpuset.cpus',
        'memory.limit_in_bytes',
        'memory.soft_limit_in_bytes',
        'blkio.weight',
        'cpu.cfs_burst_us',
      ]),
    );
  });

  it('rewrites drift found on read at once', async () => {
    const h = await harness();
    await apply(h);
    h.fs.files.set(`${v1PodDir('cpu', podB)}/cpu.shares`, '1024');
    h.fs.writes.length = 0;
    await apply(h);
    expect(h.fs.writes).toEqual([{ path: `${v1PodDir('cpu', podB)}/cpu.shares`, data: '512' }]);
  });
});

describe('metrics and logs', () => {
  it('counts writes, sets per-pod gauges, removes them when the pod leaves, and logs one line per change', async () => {
    const h = await harness();
    await apply(h);
    const metric = async (
      name: string,
    ): Promise<{ labels: Record<string, string | number>; value: number }[]> =>
      ((await h.registry.getSingleMetric(name)?.get())?.values ?? []) as {
        labels: Record<string, string | number>;
        value: number;
      }[];
    expect(await metric('nodeqos_pod_cpu_shares')).toContainEqual({
      labels: { qos: 'LS', namespace: 'default', pod: 'b' },
      value: 512,
    });
    expect(await metric('nodeqos_pod_cpuset_cpus')).toContainEqual({
      labels: { qos: 'LSE', namespace: 'default', pod: 'a' },
      value: 2,
    });
    expect(await metric('nodeqos_pod_cpu_cfs_quota_us')).toContainEqual({
      labels: { qos: 'LSE', namespace: 'default', pod: 'a' },
      value: 200000,
    });
    expect(await metric('nodeqos_pod_oom_score_adj')).toContainEqual({
      labels: { qos: 'BE', namespace: 'default', pod: 'c' },
      value: 1000,
    });
    expect(await metric('nodeqos_pod_memory_bytes')).toContainEqual({
      labels: { qos: 'LSE', namespace: 'default', pod: 'a', knob: 'max' },
      value: -1,
    });
    expect(await metric('nodeqos_cgroup_writes_total')).toContainEqual({
      labels: { knob: 'cpu.shares' },
      value: 3,
    });
    expect(await metric('nodeqos_cgroup_writes_total')).toContainEqual({
      labels: { knob: 'oom_score_adj' },
      value: 3,
    });
    const shareLogs = h.logs.filter(l => l.msg === 'cgroup write' && l.knob === 'cpu.shares');
    expect(shareLogs.map(l => [l.pod, l.from, l.to])).toEqual([
      ['a', '1024', '2048'],
      ['b', '1024', '512'],
      ['c', '1024', '2'],
    ]);
    expect(h.logs.filter(l => l.msg === 'cgroup write').length).toBe(
      h.fs.writes.filter(w => !w.path.startsWith('/proc')).length,
    );

    await apply(h, pods().slice(1));
    expect((await metric('nodeqos_pod_cpu_shares')).map(v => v.labels.pod)).toEqual(['b', 'c']);
    const histogram = (await h.registry.getSingleMetric('nodeqos_apply_duration_seconds')?.get())?.values as
      { metricName?: string; labels: Record<string, string>; value: number }[] | undefined;
    const count = histogram?.find(
      v => v.metricName === 'nodeqos_apply_duration_seconds_count' && v.labels.operation === 'apply',
    );
    expect(count?.value).toBe(2);
  });
});
