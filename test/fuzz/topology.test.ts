// Fuzz: topology files (`nodeqos plan --topology`, and what the agent reports in plan status) and previous plans
// (the controller plans with the node's last plan so pins stay), through topologySchema/planSchema and planNode.
// A topology or previous plan is either refused with issues naming the field, or planned with every cpuset and
// pool inside the topology and every knob in its kernel range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../src/api/inputs.ts';
import { planSchema, type NodeIsolationPlan } from '../../src/api/plan.ts';
import { policySchema, type NodeQoSPolicy } from '../../src/api/policy.ts';
import { flatTopology, topologySchema, type Topology } from '../../src/api/topology.ts';
import { topologyProblems } from '../../src/plan/topology-fit.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { fuzz, fuzzSettings } from './support/config.ts';
import { prototypeIsClean } from './support/hostile.ts';
import { mutate, mutated, mutationArb, type Mutation } from './support/mutate.ts';
import { policyArb, topologyArb } from './support/objects.ts';
import { assertPlanInRange } from './support/plan-invariants.ts';

const settings = fuzzSettings('topology', 10_000, 2);

const policyPool: NodeQoSPolicy[] = fc.sample(policyArb, { numRuns: 48, seed: settings.seed }).flatMap(p => {
  const parsed = policySchema.safeParse(p);
  return parsed.success ? [parsed.data] : [];
});
const defaultPolicy = policySchema.parse({
  apiVersion: 'nodeqos.io/v1alpha1',
  kind: 'NodeQoSPolicy',
  metadata: { name: 'default' },
  spec: {},
});

/** A node as many CPUs as the topology lists (so well-formed topologies are used, not refused). */
function nodeFor(topology: Topology): Node {
  const cpus = Math.max(2, topology.cpus.length);
  return {
    metadata: { name: 'n1' },
    status: {
      capacity: { cpu: String(cpus), memory: '64Gi' },
      allocatable: { cpu: String(cpus - 1), memory: '60Gi' },
    },
  };
}

/**
 * The topology the planner must stay inside: the reported one when it fits the node, else CPUs 0..n-1 (a
 * topology that cannot be the node's is refused with a warning; docs/decisions/0145).
 */
function usedTopology(plan: NodeIsolationPlan, topology: Topology, node: Node): Topology {
  const cpus = Number(node.status.capacity?.cpu);
  if (topologyProblems(topology, cpus).length === 0) return topology;
  expect(plan.spec.warnings.some(w => w.message.startsWith('reported topology refused'))).toBe(true);
  return flatTopology(cpus);
}

function pod(n: number, qos: string, cpu: string, numa?: string): Pod {
  return {
    metadata: {
      name: `p${n}`,
      namespace: 'ns',
      uid: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
      labels: { 'nodeqos.io/qos-class': qos },
      annotations: numa === undefined ? {} : { 'nodeqos.io/numa-node': numa },
      creationTimestamp: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}Z`,
    },
    spec: {
      nodeName: 'n1',
      containers: [
        { name: 'c', resources: { requests: { cpu, memory: '1Gi' }, limits: { cpu, memory: '1Gi' } } },
      ],
    },
  };
}

/** Pods that pin (LSE exclusive, LSR reserved), share, and run as BE: every cpuset path of the planner. */
const podsArb = fc
  .array(
    fc.record({
      qos: fc.constantFrom('LSE', 'LSR', 'LS', 'BE'),
      cpu: fc.constantFrom('1', '2', '3', '4', '500m', '8', '17'),
      numa: fc.option(fc.constantFrom('0', '1', '2', '7'), { nil: undefined }),
    }),
    { maxLength: 8 },
  )
  .map(list => list.map((p, i) => pod(i + 1, p.qos, p.cpu, p.numa)));

const cpuListArb = fc.oneof(
  fc.constantFrom('0', '0-1', '2-3', '0-8191', '8191', '5-3', '9000', '', '0,0', '1-1', '100-101'),
  fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }).map(ids => ids.join(',')),
);

/** Edits aimed at what the planner reads back from a previous plan: pods' cpusets and pin kinds. */
const pinEditArb = fc.record({
  pod: fc.nat(),
  cpuset: cpuListArb,
  pinned: fc.constantFrom('exclusive', 'reserved', 'shared'),
});

type PinEdit = typeof pinEditArb extends fc.Arbitrary<infer T> ? T : never;

/** A hand-edited or corrupted previous plan: pin edits on pods, then random mutations anywhere. */
function editedPrevious(
  plan: NodeIsolationPlan,
  edits: readonly PinEdit[],
  mutations: readonly Mutation[],
): unknown {
  const copy = structuredClone(plan);
  for (const edit of edits) {
    const target = copy.spec.pods[edit.pod % Math.max(1, copy.spec.pods.length)];
    if (target === undefined) continue;
    target.cpu.cpuset = edit.cpuset;
    target.cpu.pinned = edit.pinned;
  }
  return mutate(copy, mutations);
}

const caseArb = fc.record({
  topology: fc.oneof(
    { weight: 3, arbitrary: mutated(topologyArb, 2) },
    { weight: 2, arbitrary: topologyArb },
  ),
  pods: podsArb,
  policyIndex: fc.nat(),
  pinEdits: fc.array(pinEditArb, { maxLength: 3 }),
  mutations: fc.array(mutationArb, { maxLength: 2 }),
  keepPods: fc.nat(),
});

/** zod issues carry the path of the field; a non-object input is the only issue without one. */
function expectPathsNamed(issues: readonly { path: PropertyKey[]; message: string }[], input: unknown): void {
  for (const issue of issues) {
    expect(issue.message.length).toBeGreaterThan(0);
    if (issue.path.length === 0)
      expect(typeof input === 'object' && input !== null && !Array.isArray(input)).toBe(false);
  }
}

describe('fuzz: topology files and previous plans', () => {
  it(
    `topologySchema + planSchema + planNode: refused with a path, or planned inside the topology (${settings.numRuns} cases)`,
    () => {
      expect(policyPool.length).toBeGreaterThan(8);
      const counts = { topologies: 0, previous: 0 };
      fuzz(
        fc.property(caseArb, input => {
          const parsedTopology = topologySchema.safeParse(input.topology);
          if (!parsedTopology.success) {
            expectPathsNamed(parsedTopology.error.issues, input.topology);
            return;
          }
          const topology = parsedTopology.data;
          const policy = policyPool[input.policyIndex % policyPool.length] ?? defaultPolicy;
          const node = nodeFor(topology);
          const first = planNode({ policy, node, pods: input.pods, topology });
          assertPlanInRange(first, usedTopology(first, topology, node));
          counts.topologies++;
          const previous = editedPrevious(first, input.pinEdits, input.mutations);
          const parsedPrevious = planSchema.safeParse(previous);
          if (!parsedPrevious.success) {
            expectPathsNamed(parsedPrevious.error.issues, previous);
            return;
          }
          counts.previous++;
          // Some pods leave between the plans; the rest keep (or lose, when edited) their pins.
          const pods = input.pods.slice(input.keepPods % (input.pods.length + 1));
          const second = planNode({ policy, node, pods, topology, previous: parsedPrevious.data.spec });
          assertPlanInRange(second, usedTopology(second, topology, node));
          expect(prototypeIsClean()).toBe(true);
        }),
        settings,
      );
      expect(counts.topologies).toBeGreaterThan(settings.numRuns / 4);
      expect(counts.previous).toBeGreaterThan(settings.numRuns / 8);
    },
    settings.timeoutMs,
  );
});
