// Fuzz: NodeQoSPolicy objects through validateObjects (what `nodeqos validate` and the controller's cache run)
// and policySchema. Every object is either refused with problems that name a field, or accepted and then
// planned into a plan that keeps every kernel range: validation and planning agree on what is usable.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/inputs.ts';
import { validateObjects } from '../../src/api/policy-validation.ts';
import { policySchema } from '../../src/api/policy.ts';
import type { Topology } from '../../src/api/topology.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { fuzz, fuzzSettings } from './support/config.ts';
import { hostileValue, prototypeIsClean } from './support/hostile.ts';
import { mutated } from './support/mutate.ts';
import { policyArb } from './support/objects.ts';
import { assertPlanInRange } from './support/plan-invariants.ts';

const settings = fuzzSettings('policy', 10_000, 1.5);

const topology: Topology = {
  cpus: Array.from({ length: 8 }, (_, id) => ({ id, core: id >> 1, socket: 0, numa: id >> 2 })),
};

const flatEight: Topology = {
  cpus: Array.from({ length: 8 }, (_, id) => ({ id, core: id, socket: 0, numa: 0 })),
};

const node = {
  metadata: { name: 'n1', labels: { zone: 'a' } },
  status: { capacity: { cpu: '8', memory: '32Gi' }, allocatable: { cpu: '7', memory: '30Gi' } },
};

function pod(n: number, qos: string, cpu: string, memory: string): Pod {
  return {
    metadata: {
      name: `p${n}`,
      namespace: 'ns',
      uid: `00000000-0000-4000-8000-00000000000${n}`,
      labels: { 'nodeqos.io/qos-class': qos },
    },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'c', resources: { requests: { cpu, memory }, limits: { cpu, memory } } }],
    },
  };
}

const pods = [
  pod(1, 'LSE', '2', '1Gi'),
  pod(2, 'LSR', '1', '512Mi'),
  pod(3, 'LS', '500m', '256Mi'),
  pod(4, 'BE', '250m', '128Mi'),
];

/** Top-level fields a problem can be reported on. */
const objectFields = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

function checkProblems(
  object: Record<string, unknown>,
  problems: ReturnType<typeof validateObjects>['problems'],
): void {
  for (const problem of problems) {
    expect(problem.message.length).toBeGreaterThan(0);
    const head = problem.path.split(/[.[]/)[0] ?? '';
    expect(objectFields.has(head) || head in object, `problem path "${problem.path}"`).toBe(true);
  }
}

const objectArb = fc.oneof(
  { weight: 6, arbitrary: mutated(policyArb, 3) },
  { weight: 1, arbitrary: policyArb },
  { weight: 1, arbitrary: hostileValue },
);

const policyWith = (spec: unknown, kind = 'NodeQoSPolicy'): Record<string, unknown> => ({
  apiVersion: 'nodeqos.io/v1alpha1',
  kind,
  metadata: { name: 'x' },
  spec,
});

/** Cases that once crashed or slipped through: explicit examples, so every run replays them first. */
const regressions: Record<string, unknown>[] = [
  ...['constructor', '__proto__', 'toString', 'hasOwnProperty'].map(kind => policyWith({}, kind)),
  ...[{ cpus: '5-3' }, { cpus: '9000' }, { cpu: '-1' }, { cpu: '1e400' }, { memory: '-1Gi' }].map(
    systemReserved => policyWith({ systemReserved }),
  ),
  ...['0bit', '0.0001bit', '99999999999999999999tbit'].map(rate =>
    policyWith({ classes: { BE: { net: { rate, ceil: rate } } } }),
  ),
];

/** What parseDocuments would hand over: an object; anything else becomes a policy's spec. */
function asDocument(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { apiVersion: 'nodeqos.io/v1alpha1', kind: 'NodeQoSPolicy', spec: value };
}

/** One case: validation never throws, its problems name fields, and an accepted policy plans inside every range. */
function checkPolicyCase(value: unknown, counts: { accepted: number }): void {
  const object = asDocument(value);
  const result = validateObjects([{ source: 'fuzz.yaml', object }]);
  checkProblems(object, result.problems);
  const direct = policySchema.safeParse(object);
  const ours = object.apiVersion === 'nodeqos.io/v1alpha1' && object.kind === 'NodeQoSPolicy';
  expect(result.policies.length).toBe(ours && direct.success ? 1 : 0);
  if (ours && !direct.success) expect(result.problems.length).toBeGreaterThan(0);
  const policy = result.policies[0]?.policy;
  if (policy === undefined) return;
  counts.accepted++;
  // Alternately with the agent's reported topology and with the flat one planNode derives from capacity.
  const reported = counts.accepted % 2 === 0 ? topology : undefined;
  const plan = planNode({ policy, node, pods, topology: reported, pressure: 60 });
  assertPlanInRange(plan, reported ?? flatEight);
}

describe('fuzz: policies', () => {
  it('refuses what the planner cannot convert, naming the field (zod-only checks)', () => {
    const bandwidthProblems = ['rate', 'ceil'].map(
      field => `spec.classes.BE.net.${field}: must be between 1bit and 2^53-1 bits per second`,
    );
    const problems = regressions
      .slice(4)
      .map(object =>
        validateObjects([{ source: 'r.yaml', object }]).problems.map(p => `${p.path}: ${p.message}`),
      );
    expect(problems).toEqual([
      ['spec.systemReserved.cpus: must list CPU ids 0..8191 in ascending ranges'],
      ['spec.systemReserved.cpus: must list CPU ids 0..8191 in ascending ranges'],
      ['spec.systemReserved.cpu: must be a non-negative CPU quantity below 2^53 millicores'],
      ['spec.systemReserved.cpu: must be a non-negative CPU quantity below 2^53 millicores'],
      ['spec.systemReserved.memory: must be a non-negative memory quantity below 2^53 bytes'],
      ...[1, 2, 3].map(() => bandwidthProblems),
    ]);
    for (const kind of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      expect(validateObjects([{ source: 'r.yaml', object: policyWith({}, kind) }]).problems).toEqual([
        expect.objectContaining({ path: 'apiVersion' }),
      ]);
  });

  it(
    `validateObjects + policySchema + planNode never crash and never plan out of range (${settings.numRuns} cases)`,
    () => {
      const counts = { accepted: 0 };
      fuzz(
        fc.property(objectArb, value => {
          checkPolicyCase(value, counts);
          expect(prototypeIsClean()).toBe(true);
        }),
        settings,
        regressions.map(r => [r] as [unknown]),
      );
      // The generator must reach the planner, not just the schema: at least an eighth are valid policies.
      expect(counts.accepted).toBeGreaterThan(settings.numRuns / 8);
    },
    settings.timeoutMs,
  );
});
