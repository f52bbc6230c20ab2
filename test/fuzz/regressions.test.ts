// What the fuzz targets found, replayed as plain examples: each was a crash, an out-of-range plan or a write the
// kernel refuses before the fix named in docs/security.md ("Fuzzing: what it found").
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DocumentError, parseDocuments } from '../../src/api/documents.ts';
import { nodeSchema } from '../../src/api/inputs.ts';
import { planSchema } from '../../src/api/plan.ts';
import { policySchema } from '../../src/api/policy.ts';
import { transformPod, transformPolicy } from '../../src/kube/transforms.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { plan, planPod } from '../agent/helpers/plans.ts';
import { v1Node, v1PodDir } from '../agent/helpers/trees.ts';
import { kernelMaxQuotaUs } from './support/plan-invariants.ts';
import { memoryNodeAgent } from '../agent/helpers/memory-agent.ts';

const policy = policySchema.parse({
  apiVersion: 'nodeqos.io/v1alpha1',
  kind: 'NodeQoSPolicy',
  metadata: { name: 'p' },
  spec: {},
});

function node(cpu: string): { metadata: { name: string }; status: { capacity: { cpu: string } } } {
  return { metadata: { name: 'n1' }, status: { capacity: { cpu } } };
}

function pod(
  n: number,
  qos: string,
  cpu: string,
  limit = cpu,
): Parameters<typeof planNode>[0]['pods'][number] {
  return {
    metadata: {
      name: `p${n}`,
      namespace: 'ns',
      uid: `00000000-0000-4000-8000-00000000000${n}`,
      labels: { 'nodeqos.io/qos-class': qos },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {
      nodeName: 'n1',
      containers: [
        { name: 'c', resources: { requests: { cpu, memory: '1Gi' }, limits: { cpu: limit, memory: '1Gi' } } },
      ],
    },
  };
}

describe('fuzz findings, replayed', () => {
  it('planner: a pin kept from the previous plan never leaves a pod with an empty cpuset', () => {
    const lsrOnly = planNode({ policy, node: node('2'), pods: [pod(1, 'LSR', '2')] });
    const withLs = planNode({
      policy,
      node: node('2'),
      pods: [pod(1, 'LSR', '2'), pod(2, 'LS', '1')],
      previous: lsrOnly.spec,
    });
    expect(withLs.spec.pods.map(p => [p.name, p.cpu.cpuset, p.cpu.pinned])).toEqual([
      ['p1', '0-1', 'reserved'],
      ['p2', '0-1', 'shared'],
    ]);
    expect(withLs.spec.warnings).toContainEqual({
      message: 'the LS pool is empty: kept pins hold every CPU; LS pods share the BE pool',
    });
    const lseOnly = planNode({ policy, node: node('2'), pods: [pod(1, 'LSE', '2')] });
    const withBe = planNode({
      policy,
      node: node('2'),
      pods: [pod(1, 'LSE', '2'), pod(3, 'BE', '1')],
      previous: lseOnly.spec,
    });
    expect(withBe.spec.pods.find(p => p.name === 'p3')?.cpu.cpuset).toBe('0-1');
    expect(planSchema.safeParse(withBe).success).toBe(true);
  });

  it('planner: a CPU limit past the kernel maximum gives the maximum quota, not an invalid plan', () => {
    const result = planNode({ policy, node: node('8'), pods: [pod(1, 'LS', '1', '9e12')] });
    expect(result.spec.pods[0]?.cpu.cfsQuotaUs).toBe(kernelMaxQuotaUs);
    expect(planSchema.safeParse(result).success).toBe(true);
  });

  it('planner: an unusable node capacity fails with the node and the field named', () => {
    expect(() => planNode({ policy, node: node('-1'), pods: [] })).toThrow(
      /^node n1: status\.capacity\.cpu: /,
    );
    expect(() => planNode({ policy, node: node('9e12'), pods: [] })).toThrow(
      'node n1: status.capacity.cpu: 9000000000000000m is more than the 8192 CPUs Linux supports',
    );
    const allocatable = {
      metadata: { name: 'n1' },
      status: { capacity: { cpu: '4' }, allocatable: { cpu: 'x' } },
    };
    expect(() => planNode({ policy, node: allocatable, pods: [] })).toThrow(
      /^node n1: status\.allocatable\.cpu: /,
    );
  });

  it('schemas: node names follow the API server; cpu lists in plans must parse', () => {
    const badNode = nodeSchema.safeParse({ metadata: { name: '../n1' }, status: {} });
    expect(badNode.error?.issues.map(i => i.path.join('.'))).toEqual(['metadata.name']);
    const good = plan('n1', [
      planPod({
        uid: '11111111-1111-4111-8111-111111111111',
        name: 'a',
        qosClass: 'LS',
        kubeQoS: 'Burstable',
      }),
    ]);
    const bad = structuredClone(good);
    const first = bad.spec.pods[0];
    if (first) first.cpu.cpuset = '5-3';
    bad.spec.pools.be = '0-9000';
    expect(planSchema.safeParse(bad).error?.issues.map(i => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'spec.pools.be: must list CPU ids 0..8191 in ascending ranges',
      'spec.pods.0.cpu.cpuset: must list CPU ids 0..8191 in ascending ranges',
    ]);
  });

  it('transforms: list items and watch objects that are not objects are dropped, not dereferenced', () => {
    for (const raw of [null, undefined, 'x', 1, []]) {
      expect(transformPod(raw)).toBeUndefined();
      expect(transformPolicy(raw)).toBeUndefined();
    }
    const started = Date.now();
    expect(transformPod({ metadata: 'A'.repeat(10 * 1024 * 1024), spec: {} })).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('documents: an alias bomb is one DocumentError naming the file', () => {
    const bomb = [
      'a: &a [x,x,x,x,x,x,x,x,x]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    ].join('\n');
    expect(() => parseDocuments(bomb, 'bomb.yaml')).toThrow(DocumentError);
    expect(() => parseDocuments(bomb, 'bomb.yaml')).toThrow(/^bomb\.yaml: Excessive alias count/);
  });

  it('documents: a document a YAML tag turns into bytes, a set or a date is not an object', () => {
    expect(() => parseDocuments('!!binary aGVsbG8=', 'b.yaml')).toThrow(
      'b.yaml: expected an object, got Buffer',
    );
    expect(() => parseDocuments('!!set {a, b}', 's.yaml')).toThrow('s.yaml: expected an object, got Set');
    expect(() => parseDocuments('1', 'n.yaml')).toThrow('n.yaml: expected an object, got number');
  });

  it('agent: a raised burst is not written when the quota raise it needs was refused', async () => {
    const uid = '33333333-3333-4333-8333-333333333333';
    const fs = v1Node([{ uid, kubeQoS: 'Burstable', containers: ['c1'] }]);
    // The parent allows 1 CPU; the plan asks the pod for 2 CPUs of quota and as much burst: the kernel refuses
    // the quota (EINVAL, child above parent), so burst 200000 stays above the quota still in force.
    fs.files.set('/cg/cpu/kubepods/burstable/cpu.cfs_quota_us', '100000');
    const stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-regression-'));
    try {
      const agent = await memoryNodeAgent({ nodeName: 'node-a', fs, stateDir });
      const report = await agent.applyPlan(
        plan('node-a', [
          planPod({
            uid,
            name: 'p',
            qosClass: 'LS',
            kubeQoS: 'Burstable',
            cpu: { cfsQuotaUs: 200000, cfsBurstUs: 200000 },
          }),
        ]),
      );
      const failed = report.status === 'refused' ? [] : (report.pods[0]?.failed ?? []);
      expect(failed.map(f => `${f.knob} ${f.errno}`)).toEqual([
        'cpu.cfs_quota_us EINVAL',
        'cpu.cfs_burst_us ECANCELED',
      ]);
      expect(fs.writesTo('/cpu.cfs_burst_us')).toEqual([]);
      expect(fs.get(`${v1PodDir('cpu', { uid, kubeQoS: 'Burstable' })}/cpu.cfs_burst_us`)).toBe('0');
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
