// The plan schema refuses what the agent would otherwise have to fix on its own: burst above quota and one pod
// listed twice. For burst, zod (controller, validate, agent) and the CRD (API server, here the embedded dev server)
// agree; uniqueness is zod's alone (see src/api/plan.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSchema, type NodeIsolationPlan } from '../../src/api/plan.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { plansPath } from '../../src/kube/sources.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { guaranteed, node, pod, policy } from '../plan/fixtures.ts';

let server: DevServer;
let http: KubeHttp;

beforeAll(async () => {
  server = await startDevServer();
  http = new KubeHttp(server.kubeConfig());
});

afterAll(async () => {
  await server.close();
});

function basePlan(name: string): NodeIsolationPlan {
  const burst = policy({ cpuBurst: { enabled: true, burstPercent: 50 } });
  const plan = planNode({
    policy: burst,
    node: node('8'),
    pods: [pod({ name: 'ls', cpu: '500m', cpuLimit: '2' }), guaranteed('LSE', '2')],
  });
  return { ...plan, metadata: { name } };
}

async function serverAccepts(plan: NodeIsolationPlan): Promise<boolean> {
  return http.request('POST', plansPath, { body: plan }).then(
    () => true,
    (error: unknown) => {
      if ((error as { statusCode?: number }).statusCode !== 422) throw error;
      return false;
    },
  );
}

describe('plan schema', () => {
  it('accepts what the planner writes', async () => {
    const plan = basePlan('ok');
    expect(plan.spec.pods.find(p => p.name === 'ls')?.cpu.cfsBurstUs).toBe(100000);
    expect(planSchema.safeParse(plan).success).toBe(true);
    expect(await serverAccepts(plan)).toBe(true);
  });

  it('refuses burst above quota, and burst with an unlimited quota', async () => {
    for (const [name, cpu] of [
      ['above', { cfsQuotaUs: 200000, cfsBurstUs: 200001 }],
      ['unlimited', { cfsQuotaUs: -1, cfsBurstUs: 1000 }],
    ] as const) {
      const plan = basePlan(`burst-${name}`);
      const first = plan.spec.pods[0];
      if (!first) throw new Error('no pod');
      first.cpu = { ...first.cpu, ...cpu };
      const parsed = planSchema.safeParse(plan);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(['spec', 'pods', 0, 'cpu', 'cfsBurstUs']);
      expect(await serverAccepts(plan)).toBe(false);
    }
  });

  it('refuses one pod uid listed twice (zod only: the controller, the agent and validate)', () => {
    const plan = basePlan('dup');
    const [a, b] = plan.spec.pods;
    if (!a || !b) throw new Error('two pods expected');
    b.uid = a.uid.toUpperCase() === a.uid ? a.uid.toLowerCase() : a.uid;
    const parsed = planSchema.safeParse(plan);
    expect(parsed.error?.issues.map(i => i.message)).toEqual([`uid ${a.uid} is listed twice (also pods[0])`]);
  });
});
