// The agent runtime against a simulated node and each API server (embedded, and a real kube-apiserver when Go is
// present): plan intake, status, pods the plan does not know yet, restore on plan deletion, refusal of a plan
// for another node.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../../src/agent/apply-plan.ts';
import { AgentRuntime } from '../../../src/agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../../src/agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../../src/agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../../src/agent/suppress/samplers/select.ts';
import { createSimulatedNode, type SimulatedNode } from '../../../src/demo/simulated-node.ts';
import { KubeHttp } from '../../../src/kube/http.ts';
import { planSource, plansPath, podSource } from '../../../src/kube/sources.ts';
import { transformPod } from '../../../src/kube/transforms.ts';
import { kubeWriter } from '../../../src/kube/writers.ts';
import { planNode } from '../../../src/plan/plan-node.ts';
import { policy } from '../../plan/fixtures.ts';
import { apiServers, useApiServer } from '../../support/api-servers.ts';
import { TestCluster } from '../../support/cluster.ts';
import { eventually } from '../../support/eventually.ts';

const logger = pino({ level: 'silent' });

describe.each(apiServers)('AgentRuntime ($name API server)', backend => {
  const api = useApiServer(backend);
  let cluster: TestCluster;
  let sim: SimulatedNode;
  let runtime: AgentRuntime | undefined;

  async function planFor(nodeName: string): Promise<ReturnType<typeof planNode>> {
    const list = await cluster.http.request<{ items: unknown[] }>('GET', '/api/v1/pods', {
      query: { fieldSelector: `spec.nodeName=${nodeName}` },
    });
    const pods = list.items.flatMap(item => transformPod(item) ?? []);
    const nodeObject = {
      metadata: { name: nodeName },
      status: { capacity: { cpu: '4', memory: '8Gi' }, allocatable: { cpu: '4', memory: '8Gi' } },
    };
    return planNode({ policy: policy(), node: nodeObject, pods });
  }

  async function startRuntime(): Promise<void> {
    const http = new KubeHttp(api().kubeConfig());
    const agent = await NodeAgent.create({
      nodeName: 'n1',
      ...sim.agentRoots,
      logger,
    });
    runtime = new AgentRuntime({
      agent,
      cache: new PlanCache(sim.stateDir),
      logger,
      registry: new Registry(),
      samplerFor: createSamplerSelector({ procRoot: sim.procRoot, fixedPressure: 50 }),
      kube: {
        planSource: planSource(http, 'n1'),
        podSource: podSource(http, 'n1'),
        writeStatus: planStatusWriter(http, 'n1'),
      },
      resyncMs: 200,
      statusIntervalMs: 200,
    });
    await runtime.start();
  }

  async function addPod(
    name: string,
    options: { qos?: string; cpu?: string },
  ): Promise<{ uid: string; kubeQoS: 'Guaranteed' | 'BestEffort' }> {
    const uid = await cluster.pod(name, 'n1', options);
    const kubeQoS = options.cpu === undefined ? 'BestEffort' : 'Guaranteed';
    await sim.addPod({ uid, kubeQoS, containers: ['c'] });
    return { uid, kubeQoS };
  }

  beforeEach(async () => {
    cluster = new TestCluster(api().kubeConfig());
    sim = await createSimulatedNode(mkdtempSync(join(tmpdir(), 'nodeqos-runtime-')), 4);
    await cluster.node('n1', {}, '4');
  });

  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  it('applies the plan from the API server and reports Applied, the generation, topology and pressure', async () => {
    const lse = await addPod('lse', { qos: 'LSE', cpu: '2' });
    await kubeWriter(cluster.http).applyPlan(await planFor('n1'));
    await startRuntime();
    await eventually(async () => expect((await sim.readPod(lse)).cpuset).toBe('0-1'));
    expect(await sim.readPod(lse)).toMatchObject({
      cpuWeight: '10000',
      cpuMax: '200000 100000',
      oomScoreAdj: '-900',
    });
    const plan = await eventually(async () => {
      const p = await cluster.plan('n1');
      expect(p?.status?.pressure).toBe(50);
      return p;
    });
    const status = plan?.status ?? {};
    const condition = (type: string): unknown => status.conditions?.find(c => c.type === type);
    expect(status.appliedGeneration).toBe(plan?.metadata.generation);
    expect(condition('Applied')).toMatchObject({ status: 'True', reason: 'Applied' });
    expect(condition('Degraded')).toMatchObject({ status: 'False' });
    expect(status.topology?.cpus).toHaveLength(4);
  });

  it('gives a pod the plan does not know yet its class values within one interval', async () => {
    await kubeWriter(cluster.http).applyPlan(await planFor('n1'));
    await startRuntime();
    const started = Date.now();
    const be = await addPod('late-be', { qos: 'BE' });
    await eventually(
      async () =>
        expect(await sim.readPod(be)).toMatchObject({ cpuWeight: '1', oomScoreAdj: '1000', cpuset: '0-3' }),
      5000,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('restores kubelet values when the plan is deleted', async () => {
    const be = await addPod('be', { qos: 'BE' });
    await kubeWriter(cluster.http).applyPlan(await planFor('n1'));
    await startRuntime();
    await eventually(async () => expect((await sim.readPod(be)).cpuWeight).toBe('1'));
    await cluster.http.request('DELETE', `${plansPath}/n1`);
    await eventually(async () =>
      expect(await sim.readPod(be)).toMatchObject({ cpuWeight: '100', oomScoreAdj: '1000', cpuset: '' }),
    );
    // The tier is lifted right after the pods are restored, in the same deletion step.
    await eventually(async () => expect(await sim.readTierQuota()).toBe('max 100000'));
  });

  it('refuses a plan written for another node: Degraded with the reason, previous values kept', async () => {
    const ls = await addPod('ls', { cpu: '1' });
    await kubeWriter(cluster.http).applyPlan(await planFor('n1'));
    await startRuntime();
    await eventually(async () => expect((await sim.readPod(ls)).oomScoreAdj).toBe('-300'));
    const hostile = await planFor('n1');
    hostile.spec.nodeName = 'n2';
    hostile.spec.pods = hostile.spec.pods.map(p => ({ ...p, oomScoreAdj: 1000 }));
    await kubeWriter(cluster.http).applyPlan(hostile);
    const plan = await eventually(async () => {
      const p = await cluster.plan('n1');
      expect(p?.status?.conditions?.find(c => c.type === 'Degraded')).toMatchObject({
        status: 'True',
        reason: 'PlanRefused',
      });
      return p;
    });
    expect(plan?.status?.conditions?.find(c => c.type === 'Degraded')?.message).toContain(
      'this agent runs on "n1"',
    );
    expect((await sim.readPod(ls)).oomScoreAdj).toBe('-300');
  });
});
