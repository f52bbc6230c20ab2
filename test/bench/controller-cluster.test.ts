import { describe, expect, it } from 'vitest';
import {
  editPoolPolicy,
  nodesOfPool,
  podBurst,
  resources,
  seedCluster,
  type ClusterShape,
} from '../../bench/controller/cluster.ts';
import { PlanLog } from '../../bench/controller/plan-log.ts';
import { ObjectStore } from '../../src/devserver/store.ts';

const shape: ClusterShape = { nodes: 20, podsPerNode: 3, policies: 12 };

describe('controller benchmark cluster', () => {
  it('seeds nodes in pools, pods per node, and pool policies that win over zone policies', () => {
    const store = new ObjectStore({ historyLimit: 10 });
    seedCluster(store, shape);
    expect(store.list(resources.nodes)).toHaveLength(20);
    expect(store.list(resources.pods)).toHaveLength(60);
    const policies = store.list(resources.policies);
    expect(policies).toHaveLength(12);
    const priorities = policies.map(p => (p.spec as { priority: number }).priority);
    expect(Math.min(...priorities.slice(0, 10))).toBeGreaterThan(Math.max(...priorities.slice(10)));
    expect([...nodesOfPool(shape, 3)]).toEqual(['node-3', 'node-13']);
  });

  it('a policy edit bumps the generation; a pod burst is exactly `count` events and leaves pods behind', () => {
    const store = new ObjectStore({ historyLimit: 2000 });
    seedCluster(store, shape);
    expect(editPoolPolicy(store, 3)).toBe(2);
    let podEvents = 0;
    store.subscribe(event => {
      if (event.resource === resources.pods) podEvents++;
    });
    const added = podBurst(store, 'node-7', 1000, 1_000_000);
    expect(podEvents).toBe(1000);
    expect(added).toBe(10);
    expect(store.list(resources.pods)).toHaveLength(60 + added);
  });
});

describe('PlanLog', () => {
  it('resolves once every node had an accepted plan write after the mark, and times out otherwise', async () => {
    const store = new ObjectStore({ historyLimit: 10 });
    const log = new PlanLog(store);
    const plan = (name: string, generation: number): Parameters<ObjectStore['create']>[1] => ({
      apiVersion: 'nodeqos.io/v1alpha1',
      kind: 'NodeIsolationPlan',
      metadata: { name },
      spec: { policyGeneration: generation },
    });
    store.create(resources.plans, plan('a', 1));
    const mark = log.mark();
    const done = log.waitForNodes(new Set(['a', 'b']), mark, e => e.policyGeneration === 2, 1_000);
    store.create(resources.plans, plan('b', 2));
    store.update(resources.plans, plan('a', 2));
    const at = await done;
    expect(log.since(mark).map(e => [e.node, e.type, e.policyGeneration])).toEqual([
      ['b', 'ADDED', 2],
      ['a', 'MODIFIED', 2],
    ]);
    expect(at).toBe(log.since(mark)[1]?.at);
    await expect(log.waitForNodes(new Set(['c']), mark, () => true, 20)).rejects.toThrow(/1 of 1 nodes/);
    log.close();
  });
});
