// Inputs beyond the pods: CPUs kubelet holds (node annotations), a full node's BE pool, pods the planner cannot
// read in full, and node capacities it cannot plan.
import { describe, expect, it } from 'vitest';
import { parseCpuList } from '../../src/api/cpulist.ts';
import type { NodeIsolationPlan, PlanPod } from '../../src/api/plan.ts';
import { conservativePod } from '../../src/api/conservative-pod.ts';
import {
  kubeletExclusiveCpusAnnotation,
  kubeletReservedCpusAnnotation,
  NodeCapacityError,
  planNode,
} from '../../src/plan/plan-node.ts';
import { guaranteed, node, pod, policy, uid } from './fixtures.ts';

const byName = (plan: NodeIsolationPlan, name: string): PlanPod | undefined =>
  plan.spec.pods.find(p => p.name === name);

function annotated(cpu: string, annotations: Record<string, string>): ReturnType<typeof node> {
  const n = node(cpu);
  return { ...n, metadata: { ...n.metadata, annotations } };
}

describe('CPUs kubelet holds', () => {
  it('kubelet-reserved CPUs act like systemReserved.cpus: never pinned, out of the LS pool, in the BE pool', () => {
    const plan = planNode({
      policy: policy({ systemReserved: { cpus: '0' } }),
      node: annotated('8', { [kubeletReservedCpusAnnotation]: '1' }),
      pods: [guaranteed('LSE', '2', '1Gi', { name: 'lse' }), pod({ name: 'ls', cpu: '1' })],
    });
    expect(byName(plan, 'lse')?.cpu.cpuset).toBe('2-3');
    expect(plan.spec.pools).toEqual({ ls: '4-7', be: '0-1,4-7' });
  });

  it('kubelet-exclusive CPUs are in no pool and never pinned; a bad list is ignored with a warning', () => {
    const plan = planNode({
      policy: policy(),
      node: annotated('8', { [kubeletExclusiveCpusAnnotation]: '0-1' }),
      pods: [guaranteed('LSE', '2', '1Gi', { name: 'lse' }), pod({ name: 'be', qos: 'BE' })],
    });
    expect(byName(plan, 'lse')?.cpu.cpuset).toBe('2-3');
    expect(plan.spec.pools).toEqual({ ls: '4-7', be: '4-7' });
    const bad = planNode({
      policy: policy(),
      node: annotated('8', { [kubeletExclusiveCpusAnnotation]: '3-1' }),
      pods: [],
    });
    expect(bad.spec.warnings[0]?.message).toContain(`node annotation ${kubeletExclusiveCpusAnnotation}`);
    expect(bad.spec.pools.be).toBe('0-7');
  });
});

describe('a full node never puts BE on exclusive CPUs (docs/decisions/0119)', () => {
  it('a new exclusive pin never takes the last CPU outside exclusive pins, BE pods or not', () => {
    const plan = planNode({
      policy: policy(),
      node: node('4'),
      pods: [guaranteed('LSE', '3', '1Gi', { name: 'a' }), guaranteed('LSE', '1', '1Gi', { name: 'b' })],
    });
    expect(byName(plan, 'a')?.cpu.pinned).toBe('exclusive');
    expect(byName(plan, 'b')?.cpu.pinned).toBe('shared');
    expect(plan.spec.pools.be).not.toBe('');
  });

  it('kept pins that hold every CPU give up the youngest; BE then runs only on the freed CPU', () => {
    const a = guaranteed('LSE', '1', '1Gi', { name: 'a', uid: uid(1001), created: '2026-01-01T00:00:00Z' });
    const b = guaranteed('LSE', '1', '1Gi', { name: 'b', uid: uid(1002), created: '2026-01-02T00:00:00Z' });
    const first = planNode({ policy: policy(), node: node('2'), pods: [a] });
    // A previous plan (written by hand, or before this rule) that made both CPUs exclusive.
    const previous = {
      ...first.spec,
      pods: [
        ...first.spec.pods,
        {
          ...first.spec.pods[0]!,
          uid: uid(1002),
          name: 'b',
          cpu: { ...first.spec.pods[0]!.cpu, cpuset: '1' },
        },
      ],
    };
    const be = pod({ name: 'be', qos: 'BE' });
    const plan = planNode({ policy: policy(), node: node('2'), pods: [a, b, be], previous });
    expect(byName(plan, 'a')?.cpu).toMatchObject({ cpuset: '0', pinned: 'exclusive' });
    expect(byName(plan, 'b')?.cpu.pinned).toBe('shared');
    expect(byName(plan, 'be')?.cpu.cpuset).toBe('1');
    expect(plan.spec.warnings).toContainEqual({
      pod: 'default/b',
      message: 're-pinning: keeping its CPUs would leave no CPU outside exclusive pins for BE pods',
    });
    const exclusive = plan.spec.pods
      .filter(p => p.cpu.pinned === 'exclusive')
      .flatMap(p => parseCpuList(p.cpu.cpuset));
    expect(parseCpuList(plan.spec.pools.be).some(cpu => exclusive.includes(cpu))).toBe(false);
  });
});

describe('every pod on the node is in its plan', () => {
  it('a pod the schema rejects is planned conservatively by its class, never pinned, with a warning', () => {
    const raw = guaranteed('LSE', '2', '1Gi', { name: 'huge', uid: uid(2001) });
    const containers = Array.from({ length: 257 }, (_, i) => ({ name: `c${i}` }));
    const tooBig = { ...raw, spec: { ...raw.spec, containers }, status: { qosClass: 'Guaranteed' } };
    const conservative = conservativePod(tooBig, 'spec.containers: must have at most 256 items');
    expect(conservative).toBeDefined();
    const be = pod({ name: 'be-huge', qos: 'BE', uid: uid(2002) });
    const beConservative = conservativePod(
      { ...be, spec: { ...be.spec, containers } },
      'too many containers',
    );
    const plan = planNode({
      policy: policy(),
      node: node('8'),
      pods: [conservative, beConservative].flatMap(p => (p ? [p] : [])),
    });
    expect(byName(plan, 'huge')?.cpu).toMatchObject({ pinned: 'shared', cpuset: plan.spec.pools.ls });
    expect(byName(plan, 'huge')).toMatchObject({ qosClass: 'LS', kubeQoS: 'Guaranteed' });
    expect(byName(plan, 'be-huge')).toMatchObject({ qosClass: 'BE', kubeQoS: 'BestEffort' });
    expect(byName(plan, 'be-huge')?.cpu.cpuset).toBe(plan.spec.pools.be);
    expect(plan.spec.warnings.map(w => w.pod)).toEqual(['default/huge', 'default/be-huge']);
    expect(plan.spec.warnings[0]?.message).toMatch(/^planned conservatively as LS \(Guaranteed\)/);
  });

  it('a pod whose quantities do not parse is planned conservatively, not dropped', () => {
    const bad = pod({ name: 'bad', cpu: '1' });
    const container = bad.spec.containers[0];
    if (container) container.resources = { requests: { cpu: 'lots' } };
    const plan = planNode({ policy: policy(), node: node('8'), pods: [bad] });
    expect(byName(plan, 'bad')?.cpu.shares).toBe(2);
    expect(plan.spec.warnings[0]?.message).toContain('planned conservatively');
  });

  it('a capacity the planner cannot use is a NodeCapacityError naming the field', () => {
    for (const cpu of ['-1', 'abc', '9e12', '0', '100m']) {
      expect(() => planNode({ policy: policy(), node: node(cpu, '1'), pods: [] })).toThrow(NodeCapacityError);
    }
    const missing = node('8');
    missing.status.capacity = {};
    expect(() => planNode({ policy: policy(), node: missing, pods: [] })).toThrow(
      'node n1: status.capacity.cpu is missing',
    );
  });
});
