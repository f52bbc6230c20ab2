import { describe, expect, it } from 'vitest';
import { planSchema, type NodeIsolationPlan, type PlanPod } from '../../src/api/plan.ts';
import { flatTopology } from '../../src/api/topology.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { guaranteed, node, pod, policy, twoNumaTopology, uid } from './fixtures.ts';

const byName = (plan: NodeIsolationPlan, name: string): PlanPod | undefined =>
  plan.spec.pods.find(p => p.name === name);

describe('planNode: cpusets and pools', () => {
  it('seed 001 8.6 two-NUMA layout: LSE 4 CPUs -> 0-3, LSE 2 CPUs on NUMA 1 -> 8-9, LS and BE share the rest', () => {
    const plan = planNode({
      policy: policy(),
      node: node('16'),
      topology: twoNumaTopology(8),
      pods: [
        guaranteed('LSE', '4', '8Gi', { name: 'lse-1', created: '2026-01-01T00:00:00Z' }),
        guaranteed('LSE', '2', '4Gi', { name: 'lse-2', created: '2026-01-01T00:01:00Z', numa: 1 }),
        pod({ name: 'ls', cpu: '4', cpuLimit: '4' }),
        pod({ name: 'be', qos: 'BE' }),
      ],
    });
    expect(byName(plan, 'lse-1')?.cpu).toMatchObject({
      cpuset: '0-3',
      pinned: 'exclusive',
      cfsQuotaUs: 400000,
    });
    expect(byName(plan, 'lse-2')?.cpu).toMatchObject({
      cpuset: '8-9',
      pinned: 'exclusive',
      cfsQuotaUs: 200000,
    });
    expect(byName(plan, 'ls')?.cpu.cpuset).toBe('4-7,10-15');
    expect(byName(plan, 'be')?.cpu.cpuset).toBe('4-7,10-15');
    expect(plan.spec.pools).toEqual({ ls: '4-7,10-15', be: '4-7,10-15' });
  });

  it('LSR CPUs are reserved: out of the LS pool, still in the BE pool', () => {
    const plan = planNode({
      policy: policy(),
      node: node('8'),
      pods: [
        guaranteed('LSR', '2', '1Gi', { name: 'lsr' }),
        pod({ name: 'ls', cpu: '1' }),
        pod({ name: 'be', qos: 'BE' }),
      ],
    });
    expect(byName(plan, 'lsr')?.cpu).toMatchObject({ cpuset: '0-1', pinned: 'reserved' });
    expect(plan.spec.pools).toEqual({ ls: '2-7', be: '0-7' });
  });

  it('a pinned pod keeps its CPUs when the previous plan is given, even if an older pod arrives', () => {
    const first = planNode({
      policy: policy(),
      node: node('8'),
      pods: [guaranteed('LSE', '2', '1Gi', { name: 'a', created: '2026-02-01T00:00:00Z' })],
    });
    expect(byName(first, 'a')?.cpu.cpuset).toBe('0-1');
    const a = guaranteed('LSE', '2', '1Gi', {
      name: 'a',
      uid: first.spec.pods[0]?.uid,
      created: '2026-02-01T00:00:00Z',
    });
    const older = guaranteed('LSE', '2', '1Gi', { name: 'older', created: '2026-01-01T00:00:00Z' });
    const second = planNode({ policy: policy(), node: node('8'), pods: [older, a], previous: first.spec });
    expect(byName(second, 'a')?.cpu.cpuset).toBe('0-1');
    expect(byName(second, 'older')?.cpu.cpuset).toBe('2-3');
    const without = planNode({ policy: policy(), node: node('8'), pods: [older, a] });
    expect(byName(without, 'older')?.cpu.cpuset).toBe('0-1');
  });

  it('pins new pods LSE before LSR, then oldest first, then by namespace/name', () => {
    const plan = planNode({
      policy: policy(),
      node: node('8'),
      pods: [
        guaranteed('LSR', '1', '1Gi', { name: 'lsr-old', created: '2025-01-01T00:00:00Z' }),
        guaranteed('LSE', '1', '1Gi', { name: 'lse-b', created: '2026-01-01T00:00:00Z' }),
        guaranteed('LSE', '1', '1Gi', { name: 'lse-a', created: '2026-01-01T00:00:00Z' }),
        guaranteed('LSE', '1', '1Gi', { name: 'lse-old', created: '2025-06-01T00:00:00Z' }),
      ],
    });
    expect(['lse-old', 'lse-a', 'lse-b', 'lsr-old'].map(n => byName(plan, n)?.cpu.cpuset)).toEqual([
      '0',
      '1',
      '2',
      '3',
    ]);
  });

  it('only whole-CPU requests are pinned; others run in the LS pool and the plan says why', () => {
    const plan = planNode({
      policy: policy(),
      node: node('8'),
      pods: [guaranteed('LSE', '1500m', '1Gi', { name: 'frac' })],
    });
    expect(byName(plan, 'frac')?.cpu).toMatchObject({ pinned: 'shared', cpuset: '0-7', cfsQuotaUs: 150000 });
    expect(
      plan.spec.warnings.some(w => w.pod === 'default/frac' && w.message.includes('whole-CPU request')),
    ).toBe(true);
  });

  it('never empties the LS pool while unpinned LS pods need it', () => {
    const plan = planNode({
      policy: policy(),
      node: node('4'),
      pods: [guaranteed('LSE', '4', '1Gi', { name: 'greedy' }), pod({ name: 'ls', cpu: '100m' })],
    });
    expect(byName(plan, 'greedy')?.cpu.pinned).toBe('shared');
    expect(plan.spec.pools.ls).toBe('0-3');
    expect(plan.spec.warnings.some(w => w.message.startsWith('not pinned: 4 exclusive CPUs'))).toBe(true);
  });

  it('re-pins when the previous CPUs vanished from the topology', () => {
    const first = planNode({
      policy: policy(),
      node: node('8'),
      pods: [guaranteed('LSE', '2', '1Gi', { name: 'a', uid: uid(900) })],
    });
    const moved = {
      ...first.spec,
      pods: first.spec.pods.map(p => ({ ...p, cpu: { ...p.cpu, cpuset: '6-7' } })),
    };
    const plan = planNode({
      policy: policy(),
      node: node('4'),
      topology: flatTopology(4),
      pods: [guaranteed('LSE', '2', '1Gi', { name: 'a', uid: uid(900) })],
      previous: moved,
    });
    expect(byName(plan, 'a')?.cpu.cpuset).toBe('0-1');
    expect(plan.spec.warnings).toContainEqual({
      pod: 'default/a',
      message: 're-pinning: previous CPUs are no longer available',
    });
  });

  it('system CPUs named by the policy are never pinned and are left out of the LS pool', () => {
    const plan = planNode({
      policy: policy({ systemReserved: { cpus: '0-1' } }),
      node: node('8'),
      pods: [guaranteed('LSE', '2', '1Gi', { name: 'lse' })],
    });
    expect(byName(plan, 'lse')?.cpu.cpuset).toBe('2-3');
    expect(plan.spec.pools).toEqual({ ls: '4-7', be: '0-1,4-7' });
  });
});

describe('planNode: classes and pods', () => {
  it('classifies by nodeqos label, then Koordinator label, then Kubernetes QoS', () => {
    const koord = pod({ name: 'koord', cpu: '1' });
    koord.metadata.labels = { 'koordinator.sh/qosClass': 'LSR' };
    const plan = planNode({
      policy: policy(),
      node: node('8'),
      pods: [
        koord,
        guaranteed('', '1', '1Gi', { name: 'guar' }),
        pod({ name: 'burst', cpu: '1' }),
        pod({ name: 'besteffort' }),
      ],
    });
    expect(plan.spec.pods.map(p => [p.name, p.qosClass, p.kubeQoS])).toEqual([
      ['besteffort', 'BE', 'BestEffort'],
      ['burst', 'LS', 'Burstable'],
      ['guar', 'LS', 'Guaranteed'],
      ['koord', 'LSR', 'Burstable'],
    ]);
  });

  it('an unknown class label falls back with a warning', () => {
    const bad = pod({ name: 'bad', cpu: '1' });
    bad.metadata.labels = { 'nodeqos.io/qos-class': 'GOLD' };
    const plan = planNode({ policy: policy(), node: node('8'), pods: [bad] });
    expect(byName(plan, 'bad')?.qosClass).toBe('LS');
    expect(plan.spec.warnings[0]?.message).toContain('nodeqos.io/qos-class=GOLD');
  });

  it('skips pods of other nodes, finished pods and pods whose uid cannot locate a cgroup', () => {
    const other = pod({ name: 'other' });
    other.spec.nodeName = 'n2';
    const done = pod({ name: 'done' });
    done.status = { phase: 'Succeeded' };
    const hostile = pod({ name: 'hostile', uid: '../../etc' });
    const plan = planNode({
      policy: policy(),
      node: node('8'),
      pods: [other, done, hostile, pod({ name: 'ok' })],
    });
    expect(plan.spec.pods.map(p => p.name)).toEqual(['ok']);
    expect(
      plan.spec.warnings.some(w => w.pod === 'default/hostile' && w.message.includes('metadata.uid')),
    ).toBe(true);
  });

  it('fills oom_score_adj, blkio and net from the class table', () => {
    const plan = planNode({
      policy: policy(),
      node: node('8'),
      pods: [pod({ name: 'be', qos: 'BE' }), pod({ name: 'ls', cpu: '1' })],
    });
    expect(byName(plan, 'be')).toMatchObject({
      oomScoreAdj: 1000,
      blkio: { weight: 100, throttle: [{ device: 'all', readBps: 524288000, writeBps: 209715200 }] },
      net: { classid: '0x00010004', priority: 3 },
    });
    expect(byName(plan, 'ls')).toMatchObject({
      oomScoreAdj: -300,
      blkio: { weight: 500, throttle: [] },
      net: { priority: 2 },
    });
    expect(plan.spec.net.classes.find(c => c.qosClass === 'BE')).toEqual({
      qosClass: 'BE',
      classid: '0x00010004',
      priority: 3,
      rateBitsPerSec: 500_000_000,
      ceilBitsPerSec: 1_000_000_000,
    });
  });

  it('CPU burst applies to LS pods with a limit, never above their quota', () => {
    const plan = planNode({
      policy: policy({ cpuBurst: { enabled: true, burstPercent: 100 } }),
      node: node('8'),
      pods: [
        pod({ name: 'ls', cpu: '1', cpuLimit: '2' }),
        pod({ name: 'nolimit', cpu: '1' }),
        guaranteed('LSR', '1', '1Gi', { name: 'lsr' }),
      ],
    });
    expect(byName(plan, 'ls')?.cpu).toMatchObject({ cfsQuotaUs: 200000, cfsBurstUs: 200000 });
    expect(byName(plan, 'nolimit')?.cpu.cfsBurstUs).toBe(0);
    expect(byName(plan, 'lsr')?.cpu.cfsBurstUs).toBe(0);
  });

  it('produces a plan that passes the NodeIsolationPlan schema', () => {
    const plan = planNode({
      policy: policy(),
      node: node('16', '15'),
      topology: twoNumaTopology(8, 2),
      pods: [
        guaranteed('LSE', '2', '2Gi'),
        guaranteed('LSR', '2', '2Gi'),
        pod({ cpu: '1', memory: '1Gi' }),
        pod({ qos: 'BE' }),
      ],
    });
    expect(planSchema.safeParse(plan).success).toBe(true);
  });
});
