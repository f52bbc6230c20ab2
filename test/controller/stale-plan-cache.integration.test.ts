// A controller whose plan cache lags the server (a new leader whose plan watch stalled) must not force a plan built
// on the old version over the newer one: that moved an exclusive pin in a chaos run. Its apply carries the version it
// built on, the server answers 409, and once the cache has caught up the plan keeps every pin. The cluster state is
// read from the server with plain GETs, so "stale" is a version the server really stored.
import { TopologyGate } from '../../src/controller/topology-gate.ts';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PlanSpec } from '../../src/api/plan.ts';
import { PodIndex, type ClusterState, type WrittenPlan } from '../../src/controller/cluster-state.ts';
import { reconcileNode } from '../../src/controller/reconcile-node.ts';
import { PodCacheBehindError } from '../../src/controller/pin-guard.ts';
import { isConflict } from '../../src/kube/errors.ts';
import { plansPath, policiesPath } from '../../src/kube/sources.ts';
import {
  transformNode,
  transformPlan,
  transformPod,
  transformPolicy,
  type CachedPlan,
} from '../../src/kube/transforms.ts';
import { kubeWriter } from '../../src/kube/writers.ts';
import { apiServers, useApiServer } from '../support/api-servers.ts';
import { TestCluster } from '../support/cluster.ts';

const logger = pino({ level: 'silent' });
const events = { record: () => undefined };

function byName<T>(
  items: readonly T[],
  name: (item: T) => string,
): { get(key: string): T | undefined; list(): T[] } {
  const map = new Map(items.map(item => [name(item), item]));
  return { get: (key: string) => map.get(key), list: () => [...map.values()] };
}

describe.each(apiServers)('reconcile on a stale plan cache ($name API server)', backend => {
  const api = useApiServer(backend);
  let cluster: TestCluster;

  beforeEach(() => {
    cluster = new TestCluster(api().kubeConfig());
  });

  async function items(path: string): Promise<unknown[]> {
    return (await cluster.http.request<{ items: unknown[] }>('GET', path)).items;
  }

  /** The cluster as a freshly synced controller sees it; `plans` replaces the plan cache when given. */
  async function state(
    plans?: readonly CachedPlan[],
    podCacheLacks: readonly string[] = [],
  ): Promise<ClusterState> {
    const pods = new PodIndex();
    for (const raw of await items('/api/v1/pods')) {
      const pod = transformPod(raw);
      if (pod && !podCacheLacks.includes(pod.metadata.name)) pods.upsert(pod);
    }
    const cachedPlans = plans ?? (await items(plansPath)).flatMap(raw => transformPlan(raw) ?? []);
    return {
      policies: byName(
        (await items(policiesPath)).flatMap(raw => transformPolicy(raw) ?? []),
        p => p.name,
      ),
      nodes: byName(
        (await items('/api/v1/nodes')).flatMap(raw => transformNode(raw) ?? []),
        n => n.metadata.name,
      ),
      plans: byName(cachedPlans, p => p.metadata.name),
      podsOn: name => pods.on(name),
      written: new Map<string, WrittenPlan>(),
      rejectedPlans: new Map(),
    };
  }

  const deps = (): Parameters<typeof reconcileNode>[2] => ({
    writer: kubeWriter(cluster.http),
    logger,
    events,
    topologyGate: new TopologyGate(30_000),
    replanAfter: () => undefined,
  });
  const pins = (spec: PlanSpec | undefined): Record<string, string> =>
    Object.fromEntries(
      (spec?.pods ?? []).filter(p => p.cpu.pinned !== 'shared').map(p => [p.name, p.cpu.cpuset]),
    );

  it('answers 409 instead of overwriting a newer plan, then keeps every pin once the cache catches up', async () => {
    await cluster.node('n1', {}, '8');
    await cluster.policy('p', {});
    await cluster.pod('lse-a', 'n1', { qos: 'LSE', cpu: '2' });
    expect(await reconcileNode('n1', await state(), deps())).toBe('written');
    const old = transformPlan(await cluster.plan('n1'));
    if (!old) throw new Error('no plan after the first reconcile');

    await cluster.pod('lse-b', 'n1', { qos: 'LSE', cpu: '2' });
    expect(await reconcileNode('n1', await state(), deps())).toBe('written');
    const newer = await cluster.plan('n1');
    expect(Object.keys(pins(newer?.spec))).toEqual(['lse-a', 'lse-b']);

    // The lagging controller: its plan cache still holds the first version, its pod cache is current.
    await cluster.pod('be-c', 'n1', { qos: 'BE' });
    const stale = reconcileNode('n1', await state([old]), deps());
    await expect(stale).rejects.toSatisfy(isConflict);
    const untouched = await cluster.plan('n1');
    expect(untouched?.metadata.resourceVersion).toBe(newer?.metadata.resourceVersion);

    // Caught up: the plan gains be-c and both pins stay where the newer version put them.
    expect(await reconcileNode('n1', await state(), deps())).toBe('written');
    const caughtUp = await cluster.plan('n1');
    expect(caughtUp?.spec.pods.map(p => p.name)).toEqual(['be-c', 'lse-a', 'lse-b']);
    expect(pins(caughtUp?.spec)).toEqual(pins(newer?.spec));
  });

  it('does not drop a pinned pod its pod cache has lost while the server still has it; drops it once it is gone', async () => {
    await cluster.node('n1', {}, '8');
    await cluster.policy('p', {});
    await cluster.pod('lse-a', 'n1', { qos: 'LSE', cpu: '2' });
    await cluster.pod('ls-b', 'n1', { cpu: '1' });
    expect(await reconcileNode('n1', await state(), deps())).toBe('written');
    const before = await cluster.plan('n1');

    // The pod watch is behind: lse-a is missing from the cache, but the server has it.
    const lagging = reconcileNode('n1', await state(undefined, ['lse-a']), deps());
    await expect(lagging).rejects.toBeInstanceOf(PodCacheBehindError);
    expect((await cluster.plan('n1'))?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);

    // Really deleted: the plan lets it go.
    await cluster.deletePod('lse-a');
    expect(await reconcileNode('n1', await state(), deps())).toBe('written');
    expect((await cluster.plan('n1'))?.spec.pods.map(p => p.name)).toEqual(['ls-b']);
  });
});
