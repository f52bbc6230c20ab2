import { beforeAll, describe, expect, test } from 'vitest';
import { planSchema, type NodeIsolationPlan, type PlanPod } from '../../../src/api/plan.ts';
import { renderExplain } from '../../../src/cli/explain/render-explain.ts';
import { examplePlanArgs, runCli } from '../run-cli.ts';

const now = new Date('2026-11-20T12:00:00Z');

/** A real plan from the example node (planner via the CLI), so the renderer sees every field the planner fills. */
function examplePlan(): NodeIsolationPlan {
  const result = runCli([...examplePlanArgs, '-o', 'json']);
  if (result.code !== 0) throw new Error(`nodeqos plan failed: ${result.stderr}`);
  return planSchema.parse(JSON.parse(result.stdout));
}

function withStatus(
  plan: NodeIsolationPlan,
  generation: number,
  status: NodeIsolationPlan['status'],
): NodeIsolationPlan {
  return planSchema.parse({ ...plan, metadata: { ...plan.metadata, generation }, status });
}

function podLine(output: string, pod: string): string {
  const line = output.split('\n').find(l => l.startsWith(`${pod} `));
  if (line === undefined) throw new Error(`no row for ${pod} in:\n${output}`);
  return line;
}

const appliedStatus = {
  appliedGeneration: 7,
  lastAppliedTime: '2026-11-20T11:59:30Z',
  pressure: 47.25,
  suppressRatio: 0.45,
  beQuotaUs: 213750,
  unsupported: ['net: net_cls is not mounted (cgroup v2 node)'],
  podFailures: [
    { pod: 'web/api-7d9f', knob: 'memory.high', message: 'write 7.6Gi: EBUSY (device or resource busy)' },
    { pod: 'gone/old-job', knob: 'cpu.shares', message: 'cgroup vanished: ENOENT' },
  ],
  conditions: [
    {
      type: 'Applied',
      status: 'True' as const,
      observedGeneration: 7,
      lastTransitionTime: '2026-11-20T11:50:00Z',
      reason: 'Applied',
      message: '6 pods, 1 with failures',
    },
    {
      type: 'Degraded',
      status: 'True' as const,
      observedGeneration: 7,
      lastTransitionTime: '2026-11-20T09:00:00Z',
      reason: 'PodKnobFailures',
      message: '2 knob writes failed',
    },
  ],
};

describe('renderExplain on a planner-made plan', () => {
  let plan: NodeIsolationPlan;
  beforeAll(() => {
    plan = examplePlan();
  });

  test('the agent applied this generation: every pod applied except the one with a failure', () => {
    const out = renderExplain(withStatus(plan, 7, appliedStatus), { now });
    expect(out).toContain('plan generation 7; agent applied it at 2026-11-20T11:59:30Z');
    expect(podLine(out, 'web/api-7d9f')).toMatch(/FAILED memory\.high$/);
    for (const pod of ['trading/matcher', 'trading/pricer', 'web/cache-0', 'batch/etl-nightly']) {
      expect(podLine(out, pod)).toMatch(/ applied$/);
    }
    expect(podLine(out, 'trading/matcher')).toContain('2-5 (exclusive)');
    expect(out).toContain('  web/api-7d9f  memory.high: write 7.6Gi: EBUSY (device or resource busy)');
    expect(out).toContain('  gone/old-job (not in this plan)  cpu.shares: cgroup vanished: ENOENT');
    expect(out).toContain('not enforceable on this node:\n  net: net_cls is not mounted (cgroup v2 node)');
  });

  test('conditions with their ages, and the BE suppress state against the plan range', () => {
    const out = renderExplain(withStatus(plan, 7, appliedStatus), { now });
    expect(out).toMatch(/ {2}Applied\s+True\s+Applied\s+10m\s+6 pods, 1 with failures/);
    expect(out).toMatch(/ {2}Degraded\s+True\s+PodKnobFailures\s+3h\s+2 knob writes failed/);
    expect(out).toContain(
      'BE suppress (psi, every 100 ms): pressure 47.3%, ratio 0.45, BE quota 213750 us; plan range 20000..475000 us per 100000 us',
    );
  });

  test('a newer plan than the agent applied: pods are pending, failures still shown', () => {
    const out = renderExplain(withStatus(plan, 8, { ...appliedStatus, podFailures: [] }), { now });
    expect(out).toContain(
      'plan generation 8; agent applied generation 7 at 2026-11-20T11:59:30Z: not yet this one',
    );
    expect(podLine(out, 'web/api-7d9f')).toMatch(/ pending$/);
    expect(out).not.toContain('failures reported by the agent');
  });

  test('no status yet: every pod unknown, no conditions section', () => {
    const out = renderExplain(withStatus(plan, 1, undefined), { now });
    expect(out).toContain('plan generation 1; the agent has not reported on this node yet');
    expect(podLine(out, 'trading/pricer')).toMatch(/ unknown$/);
    expect(out).not.toContain('conditions:');
    expect(out).toContain('BE suppress (psi, every 100 ms): pressure ?, ratio ?, BE quota ?');
  });

  test('a BE quota below the plan floor is called out', () => {
    const out = renderExplain(withStatus(plan, 7, { ...appliedStatus, beQuotaUs: 5000 }), { now });
    expect(out).toContain(
      'BE quota 5000 us; plan range 20000..475000 us per 100000 us  (below the plan floor!)',
    );
  });
});

describe('renderExplain layout', () => {
  let pods = 0;
  // A plan lists each uid once: each pod gets its own.
  const pod = (name: string, overrides: Partial<PlanPod['cpu']> = {}): PlanPod => ({
    uid: `0f6c1a52-1f3e-4a8e-9d0b-${(++pods).toString(16).padStart(12, '0')}`,
    namespace: 'ns',
    name,
    qosClass: 'LS',
    kubeQoS: 'Burstable',
    cpu: {
      shares: 1024,
      cfsQuotaUs: -1,
      cfsPeriodUs: 100000,
      cfsBurstUs: 0,
      cpuset: '0-3',
      pinned: 'shared',
      ...overrides,
    },
    memory: { minBytes: 536870912, lowBytes: null, highBytes: 1073741824, maxBytes: null },
    oomScoreAdj: -300,
    blkio: { weight: 500, throttle: [] },
    net: { classid: '0x00010003', priority: 2 },
  });
  const small: NodeIsolationPlan = planSchema.parse({
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeIsolationPlan',
    metadata: { name: 'n1', generation: 2 },
    spec: {
      nodeName: 'n1',
      policyName: 'p',
      policyGeneration: 4,
      nodeCapacityMilliCPU: 4000,
      podCount: 2,
      cpuSuppress: {
        enabled: false,
        baseMilliCPU: 3000,
        cfsPeriodUs: 100000,
        floorQuotaUs: 10000,
        ceilingQuotaUs: 300000,
        curve: [{ pressure: 50, ratio: 1 }],
        interpolation: 'linear',
        pressureSource: 'utilization',
        intervalMs: 200,
        maxStepUpQuotaUs: 30000,
        deadbandQuotaUs: 4000,
      },
      cpuBurst: { enabled: false, burstPercent: 0 },
      pools: { ls: '0-3', be: '' },
      classDefaults: [],
      net: { classes: [] },
      pods: [pod('zeta'), pod('alpha', { cfsQuotaUs: 200000, cpuset: '2-3', pinned: 'reserved' })],
      warnings: [{ pod: 'ns/zeta', message: 'cpu.shares clamped to 2' }],
    },
    status: { appliedGeneration: 2 },
  });

  test('the exact report: header, pods sorted by name, warnings last', () => {
    expect(renderExplain(small, { now })).toBe(
      [
        'node n1   policy p (generation 4)   pods 2',
        'plan generation 2; agent applied it',
        'pools: LS 0-3   BE (empty)',
        'BE suppress: off (plan range 10000..300000 us per 100000 us)',
        'BE eviction: not in this plan (older controller): off',
        'last eviction round: none',
        '',
        'POD       CLASS  SHARES  QUOTA      CPUSET          MEM-MIN  MEM-LOW  MEM-HIGH  MEM-MAX  OOM   BLKIO  NET-PRIO  AGENT',
        'ns/alpha  LS     1024    200000     2-3 (reserved)  512Mi    0        1Gi       max      -300  500    2         applied',
        'ns/zeta   LS     1024    unlimited  0-3             512Mi    0        1Gi       max      -300  500    2         applied',
        '',
        'plan warnings:',
        '  ns/zeta: cpu.shares clamped to 2',
      ].join('\n'),
    );
  });

  test('eviction settings and the last round the agent recorded', () => {
    const withEviction = planSchema.parse({
      ...small,
      spec: {
        ...small.spec,
        eviction: {
          priorityThreshold: 6999,
          conditionTransitionSeconds: 300,
          memory: {
            enabled: true,
            thresholdPercent: 70,
            lowerPercent: 68,
            minReclaimBytes: 268435456,
            coolDownSeconds: 30,
            intervalSeconds: 1,
          },
          cpu: {
            enabled: false,
            satisfactionLowerPercent: 60,
            satisfactionUpperPercent: 80,
            usageThresholdPercent: 90,
            windowSeconds: 60,
            coolDownSeconds: 20,
          },
        },
      },
      status: {
        appliedGeneration: 2,
        memoryWorkingSetPercent: 71.25,
        lastEvictionRound: {
          time: '2026-01-01T00:00:00.000Z',
          resource: 'memory',
          reason: 'node memory working set 72.0% >= threshold 70%',
          observedPercent: 72,
          thresholdPercent: 70,
          target: 1000,
          evicted: ['batch/a'],
          refused: [{ pod: 'batch/b', reason: 'HTTP 429: needs 2 healthy pods' }],
        },
      },
    });
    const lines = renderExplain(withEviction, { now }).split('\n');
    expect(lines).toContain(
      'BE eviction: memory on, working set >= 70% -> down to 68%, min reclaim 256Mi, cool-down 30s; cpu off; never above priority 6999; conditions hold 300s',
    );
    expect(lines).toContain(
      'last eviction round: node working set 71.3%; 2026-01-01T00:00:00.000Z memory: evicted batch/a; refused batch/b (HTTP 429: needs 2 healthy pods)',
    );
    expect(lines).toContain('  why: node memory working set 72.0% >= threshold 70%');
  });

  test('a plan without a generation still says what the agent applied', () => {
    const out = renderExplain({ ...small, metadata: { name: small.metadata.name } }, { now });
    expect(out).toContain('plan generation ?; agent applied generation 2');
    expect(podLine(out, 'ns/alpha')).toMatch(/ unknown$/);
  });
});
