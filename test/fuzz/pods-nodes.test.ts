// Fuzz: Pod and Node objects as the API server (or an attacker who can create pods) sends them, through the
// informer transforms (transformPod/transformNode) and planNode. transformNode drops what it cannot read,
// transformPod keeps an unreadable pod for conservative planning (docs/decisions/0115); the planner skips only pods
// whose uid names no cgroup, with a warning naming the pod, refuses a node whose capacity is unusable with an error
// naming the field, and otherwise plans inside every kernel range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeSchema, podSchema } from '../../src/api/inputs.ts';
import { policySchema, type NodeQoSPolicy } from '../../src/api/policy.ts';
import { flatTopology, type Topology } from '../../src/api/topology.ts';
import { transformNode, transformPod, type CachedPod } from '../../src/kube/transforms.ts';
import { NodeCapacityError, planNode } from '../../src/plan/plan-node.ts';
import { topologyProblems } from '../../src/plan/topology-fit.ts';
import { fuzz, fuzzSettings } from './support/config.ts';
import { hostileValue, prototypeIsClean } from './support/hostile.ts';
import { mutated } from './support/mutate.ts';
import { policyArb, rawNodeArb, rawPodArb, topologyArb } from './support/objects.ts';
import { assertPlanInRange } from './support/plan-invariants.ts';

const settings = fuzzSettings('pods-nodes', 10_000, 2);

/** Planning context fields an error may name. */
const nodeFieldPattern = /status\.(capacity|allocatable)\.cpu/;

const policyPool: NodeQoSPolicy[] = fc.sample(policyArb, { numRuns: 64, seed: settings.seed }).flatMap(p => {
  const parsed = policySchema.safeParse(p);
  return parsed.success ? [parsed.data] : [];
});

function transformedPods(raw: readonly unknown[]): CachedPod[] {
  return raw.flatMap(p => {
    const pod = transformPod(p);
    if (pod === undefined) {
      // Refused by the transform: the same object fails the schema with a field path, or has no node.
      const parsed = podSchema.safeParse(p);
      expect(!parsed.success || parsed.data.spec.nodeName === undefined).toBe(true);
      if (!parsed.success) for (const issue of parsed.error.issues) expect(issue.message).not.toBe('');
    }
    return pod === undefined ? [] : [pod];
  });
}

const caseArb = fc.record({
  node: fc.oneof({ weight: 4, arbitrary: mutated(rawNodeArb, 2) }, { weight: 1, arbitrary: rawNodeArb }),
  pods: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: rawPodArb },
      { weight: 4, arbitrary: mutated(rawPodArb, 2) },
      { weight: 1, arbitrary: hostileValue },
    ),
    { maxLength: 8 },
  ),
  topology: fc.option(topologyArb, { nil: undefined }),
  policyIndex: fc.nat(),
  pressure: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined }),
});

/** A reported topology that does not fit the node is refused (a warning says so) and CPUs 0..n-1 are used. */
function usedTopology(reported: Topology | undefined, cpuCount: number): Topology {
  if (reported !== undefined && topologyProblems(reported, cpuCount).length === 0) return reported;
  return flatTopology(Math.min(8192, cpuCount));
}

function planCase(input: typeof caseArb extends fc.Arbitrary<infer T> ? T : never): void {
  const node = transformNode(input.node);
  if (node === undefined) {
    expect(nodeSchema.safeParse(input.node).success).toBe(false);
    return;
  }
  const pods = transformedPods(input.pods);
  const policy = policyPool[input.policyIndex % policyPool.length];
  if (policy === undefined) throw new Error('no valid policy sampled');
  let plan: ReturnType<typeof planNode>;
  try {
    plan = planNode({ policy, node, pods, topology: input.topology, pressure: input.pressure });
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(NodeCapacityError);
    expect((error as Error).message).toMatch(nodeFieldPattern);
    return;
  }
  const cpuCount = Math.max(1, Math.ceil(plan.spec.nodeCapacityMilliCPU / 1000));
  const topology = usedTopology(input.topology, cpuCount);
  assertPlanInRange(plan, topology);
  const planned = new Set(plan.spec.pods.map(p => p.uid));
  for (const pod of pods) {
    if (planned.has(pod.metadata.uid.toLowerCase())) continue;
    // Every pod on the node that is not planned is explained by a warning naming it (or is finished/elsewhere).
    const elsewhere =
      pod.spec.nodeName !== node.metadata.name || ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '');
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    expect(elsewhere || plan.spec.warnings.some(w => w.pod === key)).toBe(true);
  }
}

describe('fuzz: pods and nodes', () => {
  it(
    `transformPod/transformNode + planNode: a valid plan or an error naming the field (${settings.numRuns} cases)`,
    () => {
      expect(policyPool.length).toBeGreaterThan(8);
      fuzz(
        fc.property(caseArb, input => {
          planCase(input);
          expect(prototypeIsClean()).toBe(true);
        }),
        settings,
      );
    },
    settings.timeoutMs,
  );
});
