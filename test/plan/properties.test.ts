// Property tests over random topologies and pods: the invariants every plan must keep.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCpuList } from '../../src/api/cpulist.ts';
import type { Pod } from '../../src/api/inputs.ts';
import { planSchema, type NodeIsolationPlan } from '../../src/api/plan.ts';
import type { Topology } from '../../src/api/topology.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { node, policy, uid } from './fixtures.ts';

const topologyArb: fc.Arbitrary<Topology> = fc
  .record({
    sockets: fc.integer({ min: 1, max: 2 }),
    numaPerSocket: fc.integer({ min: 1, max: 2 }),
    cores: fc.integer({ min: 1, max: 6 }),
    threads: fc.integer({ min: 1, max: 2 }),
  })
  .map(({ sockets, numaPerSocket, cores, threads }) => {
    const perNuma = cores * threads;
    const count = sockets * numaPerSocket * perNuma;
    const cpus = Array.from({ length: count }, (_, id) => {
      const numa = Math.floor(id / perNuma);
      return {
        id,
        core: numa * cores + Math.floor((id % perNuma) / threads),
        socket: Math.floor(numa / numaPerSocket),
        numa,
      };
    });
    return { cpus };
  });

const podArb = fc.record({
  qos: fc.constantFrom('LSE', 'LSR', 'LS', 'BE', undefined),
  cpuMilli: fc.oneof(
    fc.integer({ min: 0, max: 6 }).map(n => n * 1000),
    fc.integer({ min: 0, max: 8000 }),
  ),
  limitFactor: fc.constantFrom(0, 1, 2),
  memMi: fc.integer({ min: 0, max: 16384 }),
  memLimitFactor: fc.constantFrom(0, 1, 1.5),
  created: fc.integer({ min: 0, max: 1000 }),
  numa: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
});

type PodSpec = typeof podArb extends fc.Arbitrary<infer T> ? T : never;

function toPod(p: PodSpec, index: number): Pod {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (p.cpuMilli > 0) requests.cpu = `${p.cpuMilli}m`;
  if (p.memMi > 0) requests.memory = `${p.memMi}Mi`;
  if (p.limitFactor > 0 && p.cpuMilli > 0) limits.cpu = `${p.cpuMilli * p.limitFactor}m`;
  if (p.memLimitFactor > 0 && p.memMi > 0) limits.memory = `${Math.ceil(p.memMi * p.memLimitFactor)}Mi`;
  return {
    metadata: {
      name: `p${index}`,
      namespace: 'ns',
      uid: uid(10_000 + index),
      labels: p.qos ? { 'nodeqos.io/qos-class': p.qos } : {},
      annotations: p.numa === undefined ? {} : { 'nodeqos.io/numa-node': String(p.numa) },
      creationTimestamp: new Date(Date.UTC(2026, 0, 1) + p.created * 60_000).toISOString(),
    },
    spec: { nodeName: 'n1', containers: [{ name: 'c', resources: { requests, limits } }] },
  };
}

function checkPodRanges(p: NodeIsolationPlan['spec']['pods'][number], all: ReadonlySet<number>): void {
  expect(p.cpu.shares).toBeGreaterThanOrEqual(2);
  expect(p.cpu.shares).toBeLessThanOrEqual(262144);
  expect(p.cpu.cfsQuotaUs === -1 || p.cpu.cfsQuotaUs >= 1000).toBe(true);
  expect(p.cpu.cfsBurstUs).toBeLessThanOrEqual(Math.max(0, p.cpu.cfsQuotaUs));
  const m = p.memory;
  const high = m.highBytes ?? Infinity;
  const max = m.maxBytes ?? Infinity;
  expect((m.minBytes ?? 0) <= (m.lowBytes ?? 0) && (m.lowBytes ?? 0) <= high && high <= max).toBe(true);
  const cpus = parseCpuList(p.cpu.cpuset);
  expect(cpus.length).toBeGreaterThan(0);
  expect(cpus.every(cpu => all.has(cpu))).toBe(true);
}

function checkInvariants(plan: NodeIsolationPlan, topology: Topology): void {
  expect(planSchema.safeParse(plan).success).toBe(true);
  const owner = new Map<number, string>();
  const ls = new Set(parseCpuList(plan.spec.pools.ls));
  const be = new Set(parseCpuList(plan.spec.pools.be));
  const all = new Set(topology.cpus.map(c => c.id));
  for (const p of plan.spec.pods) {
    checkPodRanges(p, all);
    if (p.cpu.pinned === 'shared') continue;
    for (const cpu of parseCpuList(p.cpu.cpuset)) {
      expect(owner.get(cpu)).toBeUndefined();
      owner.set(cpu, p.uid);
      expect(ls.has(cpu)).toBe(false);
      expect(p.cpu.pinned === 'exclusive' && be.has(cpu)).toBe(false);
    }
  }
  const needsLs = plan.spec.pods.some(p => p.qosClass !== 'BE' && p.cpu.pinned === 'shared');
  const needsBe = plan.spec.pods.some(p => p.qosClass === 'BE');
  expect(!needsLs || ls.size > 0).toBe(true);
  expect(!needsBe || be.size > 0).toBe(true);
}

describe('planner properties', () => {
  it('keeps kernel ranges, exclusive CPUs, non-empty pools and memory ordering on random nodes', () => {
    fc.assert(
      fc.property(topologyArb, fc.array(podArb, { maxLength: 24 }), (topology, specs) => {
        const pods = specs.map(toPod);
        const plan = planNode({ policy: policy(), node: node(String(topology.cpus.length)), pods, topology });
        checkInvariants(plan, topology);
      }),
      { numRuns: 300, seed: 20261123 },
    );
  });

  it('is stable across plan generations: the same inputs on its own plan keep every pod and pool', () => {
    fc.assert(
      fc.property(topologyArb, fc.array(podArb, { maxLength: 24 }), (topology, specs) => {
        const input = {
          policy: policy(),
          node: node(String(topology.cpus.length)),
          pods: specs.map(toPod),
          topology,
        };
        const first = planNode(input);
        const second = planNode({ ...input, previous: first.spec });
        expect(second.spec.pods).toEqual(first.spec.pods);
        expect(second.spec.pools).toEqual(first.spec.pools);
        // Only the reason a pod stayed unpinned may change once (tried before, then after, the kept pins); from
        // the second generation on the whole spec is a fixed point, so the controller stops writing.
        expect(planNode({ ...input, previous: second.spec }).spec).toEqual(second.spec);
      }),
      { numRuns: 200, seed: 1515 },
    );
  });

  it('pinned CPUs never move across re-plans while pods come and go', () => {
    fc.assert(
      fc.property(
        topologyArb,
        fc.array(podArb, { maxLength: 16 }),
        fc.array(podArb, { maxLength: 8 }),
        (topology, firstSpecs, extraSpecs) => {
          const first = firstSpecs.map(toPod);
          const plan1 = planNode({
            policy: policy(),
            node: node(String(topology.cpus.length)),
            pods: first,
            topology,
          });
          const kept = first.filter((_, i) => i % 3 !== 0);
          const extra = extraSpecs.map((s, i) => toPod(s, 100 + i));
          const plan2 = planNode({
            policy: policy(),
            node: node(String(topology.cpus.length)),
            pods: [...kept, ...extra],
            topology,
            previous: plan1.spec,
          });
          checkInvariants(plan2, topology);
          for (const p of plan2.spec.pods) {
            const before = plan1.spec.pods.find(q => q.uid === p.uid);
            if (before && before.cpu.pinned !== 'shared') expect(p.cpu.cpuset).toBe(before.cpu.cpuset);
          }
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
