// The agent's plan lifecycle as a state machine, on a simulated node against the embedded API server: plan added,
// deleted, re-created, changed, deleted again. At every step the pod's kernel files, the BE tier quota and the
// plan's status are checked. (Deleting and re-creating a plan used to register the suppress metrics twice, after
// which the BE tier was never capped again and no status was written.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NodeAgent } from '../../../src/agent/apply-plan.ts';
import { AgentRuntime, type AgentRuntimeOptions } from '../../../src/agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../../src/agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../../src/agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../../src/agent/suppress/samplers/select.ts';
import { createSimulatedNode, type SimulatedNode } from '../../../src/demo/simulated-node.ts';
import { startDevServer, type DevServer } from '../../../src/devserver/index.ts';
import { KubeHttp } from '../../../src/kube/http.ts';
import { planSource, plansPath, podSource } from '../../../src/kube/sources.ts';
import { transformPod } from '../../../src/kube/transforms.ts';
import { kubeWriter } from '../../../src/kube/writers.ts';
import { planNode } from '../../../src/plan/plan-node.ts';
import { policy } from '../../plan/fixtures.ts';
import { TestCluster } from '../../support/cluster.ts';
import { eventually } from '../../support/eventually.ts';

const logger = pino({ level: 'silent' });
const unlimitedTier = 'max 100000';
let server: DevServer;
let cluster: TestCluster;
let sim: SimulatedNode;
let runtime: AgentRuntime | undefined;
let registry: Registry;

async function writePlan(): Promise<number> {
  const list = await cluster.http.request<{ items: unknown[] }>('GET', '/api/v1/pods', {
    query: { fieldSelector: 'spec.nodeName=n1' },
  });
  const pods = list.items.flatMap(item => transformPod(item) ?? []);
  const node = {
    metadata: { name: 'n1' },
    status: { capacity: { cpu: '4', memory: '8Gi' }, allocatable: { cpu: '4', memory: '8Gi' } },
  };
  const plan = planNode({ policy: policy(), node, pods });
  await kubeWriter(cluster.http).applyPlan(plan);
  const stored = await cluster.plan('n1');
  return stored?.metadata.generation ?? 0;
}

/** An agent on the simulated node and its runtime against the API server, started; overrides win. */
async function startAgent(
  overrides: Partial<AgentRuntimeOptions> = {},
): Promise<{ runtime: AgentRuntime; agent: NodeAgent }> {
  const http = new KubeHttp(server.kubeConfig());
  const agent = await NodeAgent.create({ nodeName: 'n1', ...sim.agentRoots, logger, registry });
  const started = new AgentRuntime({
    agent,
    cache: new PlanCache(sim.stateDir),
    logger,
    registry,
    samplerFor: createSamplerSelector({ procRoot: sim.procRoot, fixedPressure: 50 }),
    kube: {
      planSource: planSource(http, 'n1'),
      podSource: podSource(http, 'n1'),
      writeStatus: planStatusWriter(http, 'n1'),
    },
    resyncMs: 200,
    statusIntervalMs: 200,
    ...overrides,
  });
  runtime = started;
  await started.start();
  return { runtime: started, agent };
}

async function addPod(
  name: string,
  options: { qos?: string; cpu?: string },
): Promise<{
  uid: string;
  kubeQoS: 'Guaranteed' | 'BestEffort';
}> {
  const uid = await cluster.pod(name, 'n1', options);
  const kubeQoS = options.cpu === undefined ? 'BestEffort' : 'Guaranteed';
  await sim.addPod({ uid, kubeQoS, containers: ['c'] });
  return { uid, kubeQoS };
}

/** The plan's status says the agent applied this generation. */
async function appliedStatus(generation: number): Promise<void> {
  await eventually(async () => {
    const status = (await cluster.plan('n1'))?.status;
    expect(status?.appliedGeneration).toBe(generation);
    expect(status?.conditions?.find(c => c.type === 'Applied')).toMatchObject({ status: 'True' });
  });
}

beforeEach(async () => {
  server = await startDevServer();
  cluster = new TestCluster(server);
  sim = await createSimulatedNode(mkdtempSync(join(tmpdir(), 'nodeqos-lifecycle-')), 4);
  registry = new Registry();
  await cluster.node('n1', {}, '4');
});

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
  await server.close();
});

describe('agent plan lifecycle', () => {
  it('delete -> re-create -> change -> delete: kernel files, BE tier quota and status right at every step', async () => {
    const be = await addPod('be', { qos: 'BE' });
    const ls = await addPod('ls', { qos: 'LS', cpu: '1' });
    const firstGeneration = await writePlan();
    await startAgent();

    // 1. Added: BE capped, LS protected, status Applied.
    await eventually(async () =>
      expect(await sim.readPod(be)).toMatchObject({ cpuWeight: '1', oomScoreAdj: '1000' }),
    );
    await eventually(async () => expect(await sim.readTierQuota()).not.toBe(unlimitedTier));
    const cappedTier = await sim.readTierQuota();
    expect((await sim.readPod(ls)).oomScoreAdj).toBe('-300');
    await appliedStatus(firstGeneration);

    // 2. Deleted: kubelet's values back, BE tier unlimited.
    await cluster.http.request('DELETE', `${plansPath}/n1`);
    await eventually(async () =>
      expect(await sim.readPod(be)).toMatchObject({ cpuWeight: '100', oomScoreAdj: '1000', cpuset: '' }),
    );
    await eventually(async () => expect(await sim.readTierQuota()).toBe(unlimitedTier));
    expect((await sim.readPod(ls)).cpuWeight).not.toBe('1');

    // 3. Re-created: the same values again, the BE tier capped again, and a status on the new object.
    const secondGeneration = await writePlan();
    await eventually(async () => expect((await sim.readPod(be)).cpuWeight).toBe('1'));
    await eventually(async () => expect(await sim.readTierQuota()).toBe(cappedTier));
    await appliedStatus(secondGeneration);

    // 4. Changed: a second LS pod takes 2 more CPUs from the BE base, so the tier quota drops.
    await addPod('ls2', { qos: 'LS', cpu: '2' });
    const thirdGeneration = await writePlan();
    expect(thirdGeneration).toBeGreaterThan(secondGeneration);
    await eventually(async () => {
      const [quota] = (await sim.readTierQuota()).split(' ');
      const [cappedQuota] = cappedTier.split(' ');
      expect(Number(quota)).toBeLessThan(Number(cappedQuota));
    });
    await appliedStatus(thirdGeneration);

    // 5. Deleted again: everything back once more.
    await cluster.http.request('DELETE', `${plansPath}/n1`);
    await eventually(async () => expect((await sim.readPod(be)).cpuWeight).toBe('100'));
    await eventually(async () => expect(await sim.readTierQuota()).toBe(unlimitedTier));

    // Every suppress and executor series is registered once on the process's registry.
    const names = (await registry.getMetricsAsJSON()).map(m => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('nodeqos_agent_be_quota_us');
  });

  it('an agent re-created in the same process (same registry) starts and enforces', async () => {
    const be = await addPod('be', { qos: 'BE' });
    await writePlan();
    const first = await startAgent();
    await eventually(async () => expect((await sim.readPod(be)).cpuWeight).toBe('1'));
    await first.runtime.stop();
    await cluster.http.request('DELETE', `${plansPath}/n1`);
    await startAgent();
    await writePlan();
    await eventually(async () => expect(await sim.readTierQuota()).not.toBe(unlimitedTier));
  });

  it('health follows enforcement: a runtime whose steps keep failing turns unhealthy after the bound', async () => {
    await addPod('be', { qos: 'BE' });
    await writePlan();
    let clock = Date.now();
    const { runtime: started, agent } = await startAgent({
      resyncMs: 50,
      healthBoundMs: 60_000,
      now: () => clock,
    });
    expect(started.health()).toEqual({ ok: true });
    const broken = vi.spyOn(agent, 'applyPlan').mockRejectedValue(new Error('boom'));
    await eventually(async () => expect(broken).toHaveBeenCalled());
    clock += 61_000;
    const unhealthy = started.health();
    expect(unhealthy.ok).toBe(false);
    expect(unhealthy.reason).toMatch(/no agent step completed for 61 s \(last error: boom\)/);
    broken.mockRestore();
    await eventually(async () => expect(started.health()).toEqual({ ok: true }));
  });

  it('a container that starts after its pod was planned is isolated at once (inotify), not at the next resync', async () => {
    const ls = await addPod('ls', { qos: 'LS', cpu: '1' });
    await writePlan();
    await startAgent({
      resyncMs: 3_600_000,
      cgroupWatch: {
        hierarchies: [{ name: 'unified', root: join(sim.cgroupRoot, 'kubepods') }],
        driver: 'cgroupfs',
      },
    });
    await eventually(async () => expect((await sim.readPod(ls)).oomScoreAdj).toBe('-300'));
    const podCpus = (await sim.readPod(ls)).cpuset;
    const started = performance.now();
    await sim.addContainer(ls, 'late');
    await eventually(async () => {
      expect(await sim.readContainer(ls, 'late', 'cpuset.cpus')).toBe(podCpus);
      expect(await sim.readContainer(ls, 'late', 'oom_score_adj')).toBe('-300');
    }, 3000);
    // Well inside the hour-long resync: only the cgroup watch can have done it.
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
