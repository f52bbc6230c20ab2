// An agent enforces its own node's plan and nothing else: a plan for another node (by its spec.nodeName, whatever
// its object name), from the API server or from the local copy, is refused before any write, reported in the
// plan status, and the values in force stay as they were.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../src/agent/apply-plan.ts';
import { AgentRuntime } from '../../src/agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../src/agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../src/agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../src/agent/suppress/samplers/select.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { createSimulatedNode, type SimulatedNode } from '../../src/demo/simulated-node.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { agentPlanSource, plansPath, podSource } from '../../src/kube/sources.ts';
import { plan, planPod } from '../agent/helpers/plans.ts';
import { v1Node } from '../agent/helpers/trees.ts';
import { eventually } from '../support/eventually.ts';
import { memoryNodeAgent } from '../agent/helpers/memory-agent.ts';

const logger = pino({ level: 'silent' });
const uid = '6f1c2b9e-1d2a-4c3b-9e8f-0a1b2c3d4e01';

/** A valid plan object named `nodeName` whose spec says `specNodeName`. */
function planFor(nodeName: string, specNodeName = nodeName, shares = 2048): NodeIsolationPlan {
  const p = plan(nodeName, [
    planPod({ uid, name: 'web', qosClass: 'LS', kubeQoS: 'Burstable', cpu: { shares, cpuset: '0-1' } }),
  ]);
  return { ...p, spec: { ...p.spec, nodeName: specNodeName } };
}

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nodeqos-identity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('NodeAgent.applyPlan: only this node', () => {
  it('refuses a plan whose spec.nodeName is another node, however close the name, writing nothing', async () => {
    const fs = v1Node([{ uid, kubeQoS: 'Burstable', containers: ['c1'], pids: { c1: 401 } }]);
    const agent = await memoryNodeAgent({ nodeName: 'node-a', fs, stateDir: dir });
    for (const other of ['node-b', 'node-a ', 'NODE-A', 'node-a.example', 'node-', 'node-a\n']) {
      const report = await agent.applyPlan(planFor('node-a', other));
      expect(report).toEqual({
        status: 'refused',
        reason: `plan is for node "${other}", this agent runs on "node-a"`,
        issues: [],
      });
    }
    expect(fs.writes).toEqual([]);
    const own = await agent.applyPlan(planFor('node-a'));
    expect(own.status).toBe('applied');
    expect(fs.writesTo('/cpu.shares').map(w => w.data)).toEqual(['2048']);
  });

  it('ignores a local plan copy saved for another node', async () => {
    const cache = new PlanCache(dir);
    await cache.save(planFor('node-b'));
    expect(await cache.load('node-a')).toEqual({
      kind: 'corrupt',
      reason: 'plan is for node node-b, not node-a',
    });
  });
});

describe('AgentRuntime against an API server: only this node', () => {
  let server: DevServer;
  let http: KubeHttp;
  let sim: SimulatedNode;
  let runtime: AgentRuntime | undefined;

  beforeEach(async () => {
    server = await startDevServer({ logger });
    http = new KubeHttp(server.kubeConfig());
    sim = await createSimulatedNode(join(dir, 'node-a'), 2);
    await sim.addPod({ uid, kubeQoS: 'Burstable', containers: ['web'] });
  });

  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    await server.close();
  });

  async function startAgent(): Promise<AgentRuntime> {
    const registry = new Registry();
    const agent = await NodeAgent.create({
      nodeName: 'node-a',
      ...sim.agentRoots,
      registry,
      logger,
    });
    const agentHttp = new KubeHttp(server.kubeConfig());
    const started = new AgentRuntime({
      agent,
      cache: new PlanCache(sim.stateDir),
      logger,
      registry,
      samplerFor: createSamplerSelector({ procRoot: sim.procRoot, fixedPressure: 10 }),
      kube: {
        planSource: agentPlanSource(agentHttp, 'node-a'),
        podSource: podSource(agentHttp, 'node-a'),
        writeStatus: planStatusWriter(agentHttp, 'node-a'),
      },
      resyncMs: 60_000,
      statusIntervalMs: 100,
    });
    runtime = started;
    await started.start();
    return started;
  }

  async function readPlan(name: string): Promise<NodeIsolationPlan> {
    return http.request<NodeIsolationPlan>('GET', `${plansPath}/${name}`);
  }

  it('applies its own plan, never another node’s, and refuses its plan once it names another node', async () => {
    await http.request('POST', plansPath, { body: planFor('node-b', 'node-b', 4096) });
    await http.request('POST', plansPath, { body: planFor('node-a', 'node-a', 2048) });
    const agentRuntime = await startAgent();
    await eventually(async () => {
      const status = (await readPlan('node-a')).status;
      expect(status?.conditions?.find(c => c.type === 'Applied')?.status).toBe('True');
    });
    // cpu.weight for 2048 shares (kubelet's linear map): 79. The node-b plan (4096 shares) never reached it.
    const applied = await sim.readPod({ uid, kubeQoS: 'Burstable' });
    expect(applied.cpuWeight).toBe('79');
    expect((await readPlan('node-b')).status).toBeUndefined();
    expect(agentRuntime.currentPlan?.spec.nodeName).toBe('node-a');

    // Someone with write access to plans points node-a's plan at node-b: refused, reported, values kept.
    // The forged spec also raises the pod's shares: applying it would change cpu.weight.
    await http.request('PATCH', `${plansPath}/node-a`, {
      body: { spec: planFor('node-a', 'node-b', 8192).spec },
      contentType: 'application/merge-patch+json',
    });
    await eventually(async () => {
      const applied = (await readPlan('node-a')).status?.conditions?.find(c => c.type === 'Applied');
      expect(applied).toMatchObject({ status: 'False', reason: 'PlanRefused' });
      expect(applied?.message).toContain('plan is for node "node-b", this agent runs on "node-a"');
    });
    expect(await sim.readPod({ uid, kubeQoS: 'Burstable' })).toEqual(applied);
  });
});
