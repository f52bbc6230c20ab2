// The agent runtime with BE eviction on, against a simulated node and each API server (embedded, and a real
// kube-apiserver when Go is present): the plan turns memory eviction on, the node's working set is over the
// threshold, and the runtime evicts the two largest BE pods (not the third, not the LS pod), records the round in
// the plan status, sets its Node conditions next to the ones already there, and (spec.eviction.taint) the taint.
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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
import { planSource, podSource } from '../../../src/kube/sources.ts';
import { transformPod } from '../../../src/kube/transforms.ts';
import { kubeWriter } from '../../../src/kube/writers.ts';
import { planNode } from '../../../src/plan/plan-node.ts';
import { policy } from '../../plan/fixtures.ts';
import { apiServers, useApiServer } from '../../support/api-servers.ts';
import { TestCluster } from '../../support/cluster.ts';
import { eventually } from '../../support/eventually.ts';

const logger = pino({ level: 'silent' });
const Mi = 1024 * 1024;

interface NodeConditionView {
  type: string;
  status: string;
  reason: string;
}

describe.each(apiServers)('AgentRuntime BE eviction ($name API server)', backend => {
  const api = useApiServer(backend);
  let cluster: TestCluster;
  let sim: SimulatedNode;
  let runtime: AgentRuntime | undefined;

  /** The memory files a pod's (or the node's) cgroup would hold with this working set. */
  async function memoryFiles(dir: string, bytes: number): Promise<void> {
    await writeFile(join(dir, 'memory.current'), `${bytes}\n`);
    await writeFile(join(dir, 'memory.stat'), `anon ${bytes}\nfile 0\ninactive_file 0\n`);
  }

  async function addPod(name: string, qos: string, bytes: number): Promise<void> {
    const uid = await cluster.pod(name, 'n1', qos === 'LS' ? { qos, cpu: '1', memory: '1Gi' } : { qos });
    const kubeQoS = qos === 'LS' ? 'Guaranteed' : 'BestEffort';
    await sim.addPod({ uid, kubeQoS, containers: ['c'] });
    const dir =
      kubeQoS === 'Guaranteed'
        ? join(sim.cgroupRoot, 'kubepods', `pod${uid}`)
        : join(sim.cgroupRoot, 'kubepods', 'besteffort', `pod${uid}`);
    await memoryFiles(dir, bytes);
  }

  beforeEach(async () => {
    cluster = new TestCluster(api().kubeConfig());
    sim = await createSimulatedNode(mkdtempSync(join(tmpdir(), 'nodeqos-eviction-')), 4);
    await cluster.node('n1', {}, '4');
  });

  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  it('evicts the two largest BE pods, records the round, sets the node conditions and the taint', async () => {
    await addPod('be-big', 'BE', 300 * Mi);
    await addPod('be-mid', 'BE', 200 * Mi);
    await addPod('be-small', 'BE', 100 * Mi);
    await addPod('ls', 'LS', 300 * Mi);
    // The node: 900 MiB working set of 1 GiB; lower bound 48 % asks for 900 - 491.5 = 408.5 MiB.
    const nodeDir = join(sim.cgroupRoot, 'kubepods');
    await memoryFiles(nodeDir, 900 * Mi);
    const http = new KubeHttp(api().kubeConfig());
    const list = await http.request<{ items: unknown[] }>('GET', '/api/v1/pods', {
      query: { fieldSelector: 'spec.nodeName=n1' },
    });
    const plan = planNode({
      policy: policy({
        eviction: {
          conditionTransitionSeconds: 60,
          taint: true,
          memory: { enabled: true, thresholdPercent: 50, lowerPercent: 48, coolDownSeconds: 600 },
        },
      }),
      node: {
        metadata: { name: 'n1' },
        status: { capacity: { cpu: '4', memory: '1Gi' }, allocatable: { cpu: '4', memory: '1Gi' } },
      },
      pods: list.items.flatMap(item => transformPod(item) ?? []),
    });
    await kubeWriter(cluster.http).applyPlan(plan);
    const agent = await NodeAgent.create({ nodeName: 'n1', ...sim.agentRoots, logger });
    runtime = new AgentRuntime({
      agent,
      cache: new PlanCache(sim.stateDir),
      logger,
      registry: new Registry(),
      samplerFor: createSamplerSelector({ procRoot: sim.procRoot, fixedPressure: 10 }),
      kube: {
        planSource: planSource(http, 'n1'),
        podSource: podSource(http, 'n1'),
        writeStatus: planStatusWriter(http, 'n1'),
      },
      eviction: {
        client: http,
        nodeMemory: { dir: nodeDir, capacityBytes: 1024 * Mi },
        conditionsIntervalMs: 200,
      },
      resyncMs: 200,
      statusIntervalMs: 200,
    });
    await runtime.start();

    const status = await eventually(async () => {
      const p = await cluster.plan('n1');
      expect(p?.status?.lastEvictionRound?.evicted).toEqual(['default/be-big', 'default/be-mid']);
      return p?.status;
    }, 15_000);
    expect(status?.lastEvictionRound).toMatchObject({
      resource: 'memory',
      thresholdPercent: 50,
      refused: [],
    });
    expect(status?.memoryWorkingSetPercent).toBeCloseTo(87.89, 1);

    // Evicted: gone (embedded server) or terminating (a real server waits for a kubelet that never comes).
    const pods = await http.request<{ items: { metadata: { name: string; deletionTimestamp?: string } }[] }>(
      'GET',
      '/api/v1/namespaces/default/pods',
    );
    const running = pods.items
      .filter(p => p.metadata.deletionTimestamp === undefined)
      .map(p => p.metadata.name);
    expect(running.sort()).toEqual(['be-small', 'ls']);

    const conditions = await eventually(async () => {
      const node = await http.request<{ status?: { conditions?: NodeConditionView[] } }>(
        'GET',
        '/api/v1/nodes/n1',
      );
      const found = node.status?.conditions ?? [];
      expect(found.find(c => c.type === 'BEMemoryPressure')?.status).toBe('True');
      return found;
    }, 15_000);
    expect(conditions.find(c => c.type === 'NodeQoSApplied')).toMatchObject({
      status: 'True',
      reason: 'Applied',
    });
    const node = await http.request<{ spec?: { taints?: unknown[] } }>('GET', '/api/v1/nodes/n1');
    // Added next to the taints already there (a real server gives a new Node node.kubernetes.io/not-ready).
    expect(node.spec?.taints).toContainEqual({ key: 'nodeqos.io/be-pressure', effect: 'NoSchedule' });
    expect(conditions.find(c => c.type === 'BECPUStarved')).toMatchObject({
      status: 'False',
      reason: 'EvictionOff',
    });
  }, 60_000);
});
