// One simulated node with four pods (LSE pinned, LS, BE BestEffort, BE with requests), its plan written to the dev
// server, and agents started on it the way `nodeqos agent` starts them — through any KubeConfig (a TcpProxy's, to
// cut the node off), any AgentFs (to inject errnos), with their log lines captured.
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { NodeAgent } from '../../../src/agent/apply-plan.ts';
import type { AgentFs } from '../../../src/agent/fs.ts';
import { AgentRuntime } from '../../../src/agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../../src/agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../../src/agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../../src/agent/suppress/samplers/select.ts';
import type { NodeIsolationPlan } from '../../../src/api/plan.ts';
import type { PolicySpec } from '../../../src/api/policy.ts';
import { createSimulatedNode, type SimulatedNode } from '../../../src/demo/simulated-node.ts';
import { startDevServer, type DevServer } from '../../../src/devserver/index.ts';
import { KubeHttp } from '../../../src/kube/http.ts';
import { agentPlanSource, podSource } from '../../../src/kube/sources.ts';
import { transformPod } from '../../../src/kube/transforms.ts';
import { kubeWriter } from '../../../src/kube/writers.ts';
import { planNode } from '../../../src/plan/plan-node.ts';
import { podMismatches, tierQuota } from '../../chaos/node-state.ts';
import type { KernelLimits } from '../../chaos/kernel-rules.ts';
import { policy } from '../../plan/fixtures.ts';
import { TestCluster } from '../../support/cluster.ts';
import { TcpProxy } from './tcp-proxy.ts';

export const nodeName = 'n1';
export const limits: KernelLimits = { cpus: 4, numaNodes: 1, pageSize: 4096 };

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface AgentUnderTest {
  readonly runtime: AgentRuntime;
  readonly logs: LogLine[];
  stop(): Promise<void>;
}

export interface AgentStartOptions {
  readonly kubeConfig?: KubeConfig | undefined;
  readonly fs?: AgentFs | undefined;
  readonly resyncMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export class AgentFixture {
  readonly server: DevServer;
  readonly proxy: TcpProxy;
  readonly cluster: TestCluster;
  readonly sim: SimulatedNode;
  readonly pods = new Map<string, { uid: string; kubeQoS: 'Guaranteed' | 'BestEffort' }>();
  private readonly agents: AgentUnderTest[] = [];

  private constructor(server: DevServer, proxy: TcpProxy, sim: SimulatedNode) {
    this.server = server;
    this.proxy = proxy;
    this.cluster = new TestCluster(server);
    this.sim = sim;
  }

  static async create(): Promise<AgentFixture> {
    const server = await startDevServer();
    const proxy = await TcpProxy.start(server.port);
    const sim = await createSimulatedNode(mkdtempSync(join(tmpdir(), 'nodeqos-reliability-')), limits.cpus);
    const fixture = new AgentFixture(server, proxy, sim);
    await fixture.cluster.node(nodeName, {}, String(limits.cpus));
    for (const [name, options] of [
      ['lse', { qos: 'LSE', cpu: '2' }],
      ['ls', { cpu: '1' }],
      ['be', { qos: 'BE' }],
      ['be-requests', { qos: 'BE', cpu: '500m' }],
    ] as const) {
      const uid = await fixture.cluster.pod(name, nodeName, options);
      const kubeQoS = 'cpu' in options ? 'Guaranteed' : 'BestEffort';
      await sim.addPod({ uid, kubeQoS, containers: ['c'] });
      fixture.pods.set(name, { uid, kubeQoS });
    }
    await sim.setPressure(50);
    return fixture;
  }

  /** The plan the controller would write for the node's pods under `spec`, written to the API server. */
  async writePlan(spec: PolicySpec = {}): Promise<NodeIsolationPlan> {
    const list = await this.cluster.http.request<{ items: unknown[] }>('GET', '/api/v1/pods', {
      query: { fieldSelector: `spec.nodeName=${nodeName}` },
    });
    const plan = planNode({
      policy: policy({ cpuSuppress: { pressureSource: 'psi', intervalMs: 100 }, ...spec }),
      node: {
        metadata: { name: nodeName },
        status: {
          capacity: { cpu: String(limits.cpus), memory: '8Gi' },
          allocatable: { cpu: '4', memory: '8Gi' },
        },
      },
      pods: list.items.flatMap(item => transformPod(item) ?? []),
    });
    await kubeWriter(this.cluster.http).applyPlan(plan);
    const stored = await this.cluster.plan(nodeName);
    if (!stored) throw new Error('plan not stored');
    return stored;
  }

  /** An agent as `nodeqos agent` runs one; through the proxy unless told otherwise. */
  async startAgent(options: AgentStartOptions = {}): Promise<AgentUnderTest> {
    const logs: LogLine[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
    );
    const registry = new Registry();
    const agent = await NodeAgent.create({
      nodeName,
      stateDir: this.sim.stateDir,
      cgroupRoot: this.sim.cgroupRoot,
      procRoot: this.sim.procRoot,
      sysRoot: this.sim.sysRoot,
      hierarchy: 'v2',
      driver: 'cgroupfs',
      fs: options.fs,
      logger,
      registry,
      backoffBaseMs: options.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs,
    });
    const http = new KubeHttp(options.kubeConfig ?? this.proxy.kubeConfig());
    const runtime = new AgentRuntime({
      agent,
      cache: new PlanCache(this.sim.stateDir),
      logger,
      registry,
      samplerFor: createSamplerSelector({ procRoot: this.sim.procRoot }),
      kube: {
        planSource: agentPlanSource(http, nodeName),
        podSource: podSource(http, nodeName),
        writeStatus: planStatusWriter(http, nodeName),
      },
      resyncMs: options.resyncMs ?? 200,
      statusIntervalMs: 200,
      stallMs: 2000,
    });
    const running: AgentUnderTest = { runtime, logs, stop: () => runtime.stop() };
    this.agents.push(running);
    await runtime.start();
    return running;
  }

  /** Every difference between the node's files and `plan` (empty when the node enforces it exactly). */
  async mismatches(plan: NodeIsolationPlan): Promise<string[]> {
    const tier = await tierQuota(this.sim);
    if (typeof tier === 'string') return [tier];
    const out: string[] = [];
    for (const pod of plan.spec.pods)
      for (const m of await podMismatches(this.sim, pod, tier, limits)) out.push(`${pod.name}: ${m}`);
    return out;
  }

  async close(): Promise<void> {
    for (const agent of this.agents.splice(0)) await agent.stop();
    await this.proxy.close();
    await this.server.close();
    await rm(this.sim.dir, { recursive: true, force: true });
  }
}
