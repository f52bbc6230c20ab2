// Fuzz: the node agent's plan intake (NodeAgent.applyPlan) on in-memory cgroup v1 and v2 nodes. Whatever arrives
// (a hostile plan object, one for another node, values the schema allows but the kernel does not take), the agent
// either refuses the whole plan, naming the fields, before any write, or applies it; it never throws, never
// touches a path outside its roots, and never writes a value the kernel would reject or clamp.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../src/agent/apply-plan.ts';
import { cpusetPolicies, kubeQoSClasses, qosClasses } from '../../src/api/group.ts';
import { planSchema } from '../../src/api/plan.ts';
import { keepReport } from '../support/report-file.ts';
import { fuzzAsync, fuzzSettings } from './support/config.ts';
import { GuardedFs } from './support/guarded-fs.ts';
import { hostileNumber, hostileValue, prototypeIsClean } from './support/hostile.ts';
import { mutated } from './support/mutate.ts';
import { v1PodDir, v2PodSegments } from '../agent/helpers/trees.ts';
import { cgroupRoot, nodePods, procRoot, sysRoot, v1MemoryNode, v2MemoryNode } from './support/nodes.ts';
import { uidArb } from './support/objects.ts';

const settings = fuzzSettings('plan-intake', 10_000, 3);
const nodeName = 'node-a';

const edgeInt = (min: number, max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));

/** Values the plan schema admits, weighted toward the kernel's edges (2^44 quota, 2^32 iops, unaligned bytes). */
const quotaArb = fc.oneof(
  fc.constant(-1),
  edgeInt(1000, Number.MAX_SAFE_INTEGER),
  fc.constantFrom(2 ** 44 - 1, 2 ** 44),
);
const bytesArb = fc.oneof(
  fc.constant(null),
  edgeInt(0, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: 2 ** 34 }),
);
const rateArb = fc.oneof(
  edgeInt(0, Number.MAX_SAFE_INTEGER),
  fc.constantFrom(0, 1, 2, 4294967295, 4294967296),
);
/** Large lists ("0-8191") cost the agent a millisecond each to parse and compare: present, but rare. */
const cpusetArb = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom('0', '0-1', '0-3', '2-3', '3', '4-7', '1,3', '', '5-3', '8191') },
  { weight: 1, arbitrary: fc.constantFrom('0-8191', '0-4095,4097-8191') },
);

const throttleArb = fc.record(
  {
    device: fc.constantFrom(
      'all',
      '8:0',
      '254:0',
      '/dev/sda',
      '/dev/vda',
      '/dev/sda1',
      '/dev/mapper/none',
      '4294967296:0',
    ),
    readBps: rateArb,
    writeBps: rateArb,
    readIops: rateArb,
    writeIops: rateArb,
  },
  { requiredKeys: ['device'] },
);

/** A pod of the node (so writes happen), or of another node (vanished), with any knob values. */
const planPodArb = fc.record({
  ref: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...nodePods).map(p => ({ uid: p.uid, kubeQoS: p.kubeQoS })) },
    { weight: 1, arbitrary: fc.record({ uid: uidArb, kubeQoS: fc.constantFrom(...kubeQoSClasses) }) },
  ),
  namespace: fc.constantFrom('default', 'kube-system', 'a'.repeat(63)),
  name: fc.constantFrom('web', 'db-0', 'x'.repeat(253)),
  qosClass: fc.constantFrom(...qosClasses),
  cpu: fc.record({
    shares: edgeInt(2, 262144),
    cfsQuotaUs: quotaArb,
    cfsPeriodUs: edgeInt(1000, 1_000_000),
    cfsBurstUs: fc.oneof(fc.constant(0), edgeInt(0, Number.MAX_SAFE_INTEGER)),
    cpuset: cpusetArb,
    pinned: fc.constantFrom(...cpusetPolicies),
  }),
  memory: fc.record({ minBytes: bytesArb, lowBytes: bytesArb, highBytes: bytesArb, maxBytes: bytesArb }),
  oomScoreAdj: edgeInt(-1000, 1000),
  blkio: fc.record({ weight: edgeInt(10, 1000), throttle: fc.array(throttleArb, { maxLength: 2 }) }),
  net: fc.record({ classid: fc.constantFrom('0x00010001', '0xffffffff'), priority: edgeInt(0, 7) }),
});

const planArb = fc.record({
  apiVersion: fc.constant('nodeqos.io/v1alpha1'),
  kind: fc.constant('NodeIsolationPlan'),
  metadata: fc.record({ name: fc.constant(nodeName), generation: fc.nat() }),
  spec: fc.record({
    nodeName: fc.oneof(
      { weight: 12, arbitrary: fc.constant(nodeName) },
      { weight: 1, arbitrary: fc.constantFrom('node-b', 'NODE-A', 'node-a ', '../node-a', 'node-a\0') },
    ),
    policyName: fc.constant('p'),
    nodeCapacityMilliCPU: fc.constant(4000),
    podCount: fc.nat({ max: 8 }),
    cpuSuppress: fc.record({
      enabled: fc.boolean(),
      baseMilliCPU: fc.nat(),
      cfsPeriodUs: edgeInt(1000, 1_000_000),
      floorQuotaUs: edgeInt(1000, 2 ** 44),
      ceilingQuotaUs: edgeInt(1000, 2 ** 44),
      curve: fc.constant([{ pressure: 0, ratio: 1 }]),
      interpolation: fc.constantFrom('linear', 'step'),
      pressureSource: fc.constantFrom('utilization', 'psi'),
      intervalMs: edgeInt(50, 10_000),
      maxStepUpQuotaUs: edgeInt(1, 2 ** 40),
      deadbandQuotaUs: fc.nat(),
    }),
    cpuBurst: fc.record({ enabled: fc.boolean(), burstPercent: edgeInt(0, 100) }),
    pools: fc.record({ ls: cpusetArb, be: cpusetArb }),
    classDefaults: fc.constant([]),
    net: fc.constant({ classes: [] }),
    pods: fc.uniqueArray(
      planPodArb.map(({ ref, ...rest }) => ({ uid: ref.uid, kubeQoS: ref.kubeQoS, ...rest })),
      { maxLength: 3, selector: p => p.uid },
    ),
    warnings: fc.constant([]),
  }),
});

const caseArb = fc.record({
  // Refusals cost the agent microseconds, applies milliseconds: most cases probe the intake, a fifth apply.
  plan: fc.oneof(
    { weight: 2, arbitrary: planArb },
    { weight: 6, arbitrary: mutated(planArb, 2) },
    { weight: 2, arbitrary: hostileValue },
  ),
  version: fc.constantFrom('v1' as const, 'v2' as const),
  /** Now and then the suppress loop's tier quota, or the plan's deletion, between plans. */
  extra: fc.oneof(
    { weight: 8, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tier' as const), quota: hostileNumber }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'delete' as const }) },
    // A runtime (or anyone with write access to the pod's cgroup) adds a container directory with an odd name and
    // odd cgroup.procs lines: the agent must enter only plain names and turn only decimal pids into /proc paths.
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('tree' as const),
        pod: fc.nat(),
        name: fc.constantFrom('c9', '-rf', ' ', 'a\nb', '..a', '.hidden', 'a\\b', 'x'.repeat(256), '\u202e'),
        procs: fc.constantFrom(
          '301\n',
          '../../etc/passwd\n301\n',
          '1/../2\n',
          '-1\n',
          ' 302\n',
          '0x1f\n',
          '99999999999999999999\n',
          '\0\n',
          '',
        ),
      }),
    },
  ),
});

interface FuzzedNode {
  readonly agent: NodeAgent;
  readonly fs: GuardedFs;
}

let stateDir = '';
let clock = 0;
const nodes = new Map<'v1' | 'v2', FuzzedNode>();

async function fuzzedNode(version: 'v1' | 'v2'): Promise<FuzzedNode> {
  const inner = version === 'v1' ? v1MemoryNode() : v2MemoryNode();
  const fs = new GuardedFs(inner, { version, cgroupRoot, procRoot, sysRoot });
  const agent = await NodeAgent.create({
    nodeName,
    stateDir: join(stateDir, version),
    cgroupRoot,
    procRoot,
    sysRoot,
    fs,
    registry: new Registry(),
    ...(version === 'v2' ? { hierarchy: 'v2' as const, driver: 'systemd' as const } : {}),
    // A clock that jumps 10 minutes per case: backoff never hides a pod, forced rewrites happen often.
    now: () => clock,
  });
  return { agent, fs };
}

beforeAll(async () => {
  // The agent saves its original-values record before first writes: on tmpfs when there is one, for speed.
  stateDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'nodeqos-fuzz-intake-'));
  nodes.set('v1', await fuzzedNode('v1'));
  nodes.set('v2', await fuzzedNode('v2'));
});

afterAll(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** Refusal issues are "path: message"; only a plan that is not an object at all has an empty path. */
function expectIssuesNamed(issues: readonly string[], plan: unknown): void {
  expect(issues.length).toBeGreaterThan(0);
  const isObject = typeof plan === 'object' && plan !== null && !Array.isArray(plan);
  for (const issue of issues)
    expect(isObject ? /^[^:\s][^:]*: \S/.test(issue) : issue.length > 0, issue).toBe(true);
}

type Extra = (typeof caseArb extends fc.Arbitrary<infer T> ? T : never)['extra'];

/**
 * Adds a container directory (a copy of c1 with other cgroup.procs) in every controller directory of a pod of the
 * node; returns the directories so the caller can take them away again (the tree must not grow case by case).
 */
function addContainer(
  node: FuzzedNode,
  version: 'v1' | 'v2',
  extra: { pod: number; name: string; procs: string },
): string[] {
  const pod = nodePods[extra.pod % nodePods.length];
  if (pod === undefined) return [];
  const podDirs =
    version === 'v1'
      ? ['cpu', 'cpuset', 'memory', 'blkio'].map(controller => v1PodDir(controller, pod))
      : [join(cgroupRoot, ...v2PodSegments('systemd', pod.uid, pod.kubeQoS))];
  const tree = node.fs.inner;
  for (const dir of podDirs) {
    const template = `${dir}/c1/`;
    const files = Object.fromEntries(
      [...tree.files.entries()]
        .filter(([path]) => path.startsWith(template))
        .map(([path, text]) => [path.slice(template.length), text]),
    );
    tree.cgroup(join(dir, extra.name), { ...files, 'cgroup.procs': extra.procs });
  }
  return podDirs.map(dir => join(dir, extra.name));
}

async function runExtra(node: FuzzedNode, version: 'v1' | 'v2', extra: Extra): Promise<void> {
  if (extra.kind === 'tree') {
    const added = addContainer(node, version, extra);
    const report = await node.agent.reapply();
    if (report !== undefined) expect(report.status).not.toBe('refused');
    for (const dir of added) node.fs.inner.remove(dir);
  } else if (extra.kind === 'delete') {
    const report = await node.agent.deletePlan();
    expect(['applied', 'degraded']).toContain(report.status);
  } else if (extra.kind === 'tier') {
    // Only -1 or 1000..2^44-1 are accepted; anything else is a RangeError before any write.
    const before = node.fs.writes;
    const valid =
      extra.quota === -1 ||
      (Number.isInteger(extra.quota) && extra.quota >= 1000 && extra.quota <= 2 ** 44 - 1);
    const outcome = await node.agent.writeBeTierQuota(extra.quota).then(
      () => 'written',
      (error: unknown) => (error instanceof RangeError ? 'refused' : `threw ${String(error)}`),
    );
    expect(outcome).toBe(valid ? 'written' : 'refused');
    if (!valid) expect(node.fs.writes).toBe(before);
  }
}

describe('fuzz: agent plan intake', () => {
  it(
    `NodeAgent.applyPlan refuses with named fields or applies inside kernel ranges and roots (${settings.numRuns} cases)`,
    async () => {
      const outcomes = { refused: 0, otherNode: 0, applied: 0, written: 0 };
      await fuzzAsync(
        fc.asyncProperty(caseArb, async ({ plan, version, extra }) => {
          clock += 600_000;
          const node = nodes.get(version);
          if (node === undefined) throw new Error(`no ${version} node`);
          const before = node.fs.writes;
          const report = await node.agent.applyPlan(plan);
          const parsed = planSchema.safeParse(plan);
          if (!parsed.success) {
            expect(report.status).toBe('refused');
            if (report.status === 'refused') expectIssuesNamed(report.issues, plan);
            expect(node.fs.writes).toBe(before);
            outcomes.refused++;
          } else if (parsed.data.spec.nodeName !== nodeName) {
            expect(report).toMatchObject({ status: 'refused', issues: [] });
            if (report.status === 'refused') expect(report.reason).toContain(parsed.data.spec.nodeName);
            expect(node.fs.writes).toBe(before);
            outcomes.otherNode++;
          } else {
            expect(['applied', 'degraded']).toContain(report.status);
            outcomes.applied++;
            if (node.fs.writes > before) outcomes.written++;
          }
          await runExtra(node, version, extra);
          if (node.fs.violations.length > 0) throw new Error(`agent did:\n${node.fs.violations.join('\n')}`);
          expect(prototypeIsClean()).toBe(true);
        }),
        settings,
      );
      // Every path is exercised in bulk: refusals, the node check, and plans that really write.
      expect(outcomes.refused).toBeGreaterThan(settings.numRuns / 10);
      expect(outcomes.otherNode).toBeGreaterThan(settings.numRuns / 100);
      keepReport('fuzz-plan-intake-outcomes', `plan intake outcomes: ${JSON.stringify(outcomes)}`);
      expect(outcomes.written).toBeGreaterThan(settings.numRuns / 10);
    },
    settings.timeoutMs,
  );
});
