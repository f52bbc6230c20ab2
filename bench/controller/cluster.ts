// The synthetic cluster of the controller benchmark, written straight into the dev server's store (seeding is
// not what is measured): nodes in 10 pools and 4 zones, 30 pods per node, one policy per pool that wins it and
// lower-priority zone policies that match too but lose. Editing one pool policy therefore re-plans 10% of nodes.
import type { JsonObject, ObjectStore } from '../../src/devserver/index.ts';
import { benchNode, benchPod, benchPolicy } from '../fixtures.ts';

export const resources = {
  nodes: 'nodes',
  pods: 'pods',
  policies: 'nodeqospolicies.nodeqos.io',
  plans: 'nodeisolationplans.nodeqos.io',
} as const;

export const poolCount = 10;
const zoneCount = 4;
const poolLabel = 'bench.nodeqos.io/pool';
const zoneLabel = 'bench.nodeqos.io/zone';

export interface ClusterShape {
  readonly nodes: number;
  readonly podsPerNode: number;
  readonly policies: number;
}

/** The fixtures build plain JSON data (no undefined, no class instances): the store can take them as they are. */
function json(value: object): JsonObject {
  return value as JsonObject;
}

export const nodeName = (n: number): string => `node-${n}`;
export const poolPolicyName = (pool: number): string => `pool-${pool}`;

export function nodesOfPool(shape: ClusterShape, pool: number): Set<string> {
  const names = new Set<string>();
  for (let n = pool; n < shape.nodes; n += poolCount) names.add(nodeName(n));
  return names;
}

function seedPolicies(store: ObjectStore, count: number): void {
  for (let i = 0; i < count; i++) {
    const policy =
      i < poolCount
        ? benchPolicy(poolPolicyName(i), 100, { matchLabels: { [poolLabel]: `p${i}` } })
        : benchPolicy(`zone-${i}`, i, { matchLabels: { [zoneLabel]: `z${i % zoneCount}` } });
    store.create(resources.policies, json(policy));
  }
}

export function seedCluster(store: ObjectStore, shape: ClusterShape): void {
  if (shape.policies < poolCount)
    throw new Error(`need at least ${poolCount} policies, got ${shape.policies}`);
  seedPolicies(store, shape.policies);
  for (let n = 0; n < shape.nodes; n++) {
    const name = nodeName(n);
    const labels = { [poolLabel]: `p${n % poolCount}`, [zoneLabel]: `z${n % zoneCount}` };
    store.create(resources.nodes, json({ apiVersion: 'v1', kind: 'Node', ...benchNode(name, 64, labels) }));
    for (let i = 0; i < shape.podsPerNode; i++)
      store.create(
        resources.pods,
        json({ apiVersion: 'v1', kind: 'Pod', ...benchPod(name, n * shape.podsPerNode + i) }),
      );
  }
}

/** Changes the LS oom_score_adj of a pool policy: a spec change (new generation) that alters every plan it wins. */
export function editPoolPolicy(store: ObjectStore, pool: number): number {
  const current = store.get(resources.policies, '', poolPolicyName(pool));
  if (!current) throw new Error(`policy ${poolPolicyName(pool)} not found`);
  const spec = current.spec as JsonObject;
  const edited = store.update(resources.policies, {
    ...current,
    spec: { ...spec, classes: { LS: { oomScoreAdj: -400 } } },
  });
  const generation = (edited.metadata as JsonObject).generation;
  if (typeof generation !== 'number') throw new Error('edited policy has no generation');
  return generation;
}

/**
 * `count` pod events on one node, as fast as the store takes them: pods created and deleted again ten behind,
 * so the node ends with more pods than before (the final plan differs from the first). Returns the pods added.
 */
export function podBurst(store: ObjectStore, node: string, count: number, firstIndex: number): number {
  const lag = 10;
  let created = 0;
  let deleted = 0;
  for (let k = 0; created + deleted < count; k++) {
    store.create(resources.pods, json({ apiVersion: 'v1', kind: 'Pod', ...benchPod(node, firstIndex + k) }));
    created++;
    if (k < lag || created + deleted >= count) continue;
    const old = benchPod(node, firstIndex + k - lag);
    store.delete(resources.pods, old.metadata.namespace, old.metadata.name);
    deleted++;
  }
  return created - deleted;
}

export function seedPods(store: ObjectStore, pods: readonly object[]): void {
  for (const pod of pods) store.create(resources.pods, json({ apiVersion: 'v1', kind: 'Pod', ...pod }));
}
