// Planner speed: one 110-pod node on a two-socket SMT topology; a full recompute of 5,000 nodes x 30 pods; and
// the cost of one pod add through the incremental path (re-plan the one node) against a naive full recompute.
import { planNode } from '../src/plan/plan-node.ts';
import { benchNode, benchPod, benchPolicy, smtTopology } from './fixtures.ts';
import { emit, quick, result, timeIt } from './harness.ts';

const policy = benchPolicy();
const topology = smtTopology(2, 16); // 64 CPUs
const nodeCount = quick ? 200 : 5000;
const podsPerNode = 30;

const bigNode = benchNode('big', 64);
const bigPods = Array.from({ length: 110 }, (_, i) => benchPod('big', i));
const single = await timeIt(
  () => planNode({ policy, node: bigNode, pods: bigPods, topology }),
  quick ? 20 : 200,
  5,
);
emit({ bench: 'planner', case: '110 pods, 2-socket SMT (64 CPUs)', unit: 'ms', ...single });

const nodes = Array.from({ length: nodeCount }, (_, n) => benchNode(`node-${n}`, 64));
const podsByNode = nodes.map(node =>
  Array.from({ length: podsPerNode }, (_, i) => benchPod(node.metadata.name, i)),
);
const plans = new Map<string, ReturnType<typeof planNode>>();
const fullRecompute = (): void => {
  nodes.forEach((node, i) => {
    const previous = plans.get(node.metadata.name)?.spec;
    plans.set(node.metadata.name, planNode({ policy, node, pods: podsByNode[i] ?? [], topology, previous }));
  });
};
const full = await timeIt(fullRecompute, quick ? 1 : 5, 1);
emit({
  bench: 'planner',
  case: `full recompute ${nodeCount} nodes x ${podsPerNode} pods`,
  unit: 'ms',
  ...full,
});

// One pod added to one node: the controller re-plans that node only; the naive baseline re-plans every node.
const target = 7;
const withNewPod = [...(podsByNode[target] ?? []), benchPod(`node-${target}`, 999)];
const incremental = await timeIt(
  () =>
    planNode({
      policy,
      node: nodes[target] ?? benchNode('x', 64),
      pods: withNewPod,
      topology,
      previous: plans.get(`node-${target}`)?.spec,
    }),
  quick ? 20 : 500,
  5,
);
emit({ bench: 'planner', case: 'one pod add, incremental (re-plan one node)', unit: 'ms', ...incremental });
const naive = full; // the same inputs through a full recompute
const ratio = naive.median / incremental.median;
emit({
  bench: 'planner',
  case: 'one pod add, naive full recompute (baseline)',
  unit: 'ms',
  ...naive,
  ratioVsIncremental: ratio,
});
result('planner', {
  node110_median_ms: single.median,
  full_recompute_median_ms: full.median,
  nodes: nodeCount,
  per_node_median_ms: full.median / nodeCount,
  pod_add_incremental_median_ms: incremental.median,
  pod_add_naive_median_ms: naive.median,
  naive_over_incremental: ratio,
});
