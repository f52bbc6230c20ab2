// nodeqos demo, end to end without a cluster: the embedded API server, the controller, and one agent per
// example node, each on a simulated node's files. Policies, nodes and pods come from examples/; the demo waits
// until every node's plan is applied and reads the values back from the cgroup files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { NodeAgent } from '../agent/apply-plan.ts';
import { AgentRuntime } from '../agent/runtime/agent-runtime.ts';
import { PlanCache } from '../agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../agent/suppress/samplers/select.ts';
import { cpuToMilli } from '../api/quantity.ts';
import type { Node, Pod } from '../api/inputs.ts';
import type { NodeQoSPolicy } from '../api/policy.ts';
import type { KubeQoS } from '../api/group.ts';
import type { NodeIsolationPlan } from '../api/plan.ts';
import { runController, type RunningController } from '../controller/run-controller.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeHttp } from '../kube/http.ts';
import { agentPlanSource, plansPath, podSource, policiesPath } from '../kube/sources.ts';
import { kubeQoSOf } from '../plan/qos.ts';
import { createSimulatedNode, type SimulatedNode } from './simulated-node.ts';

/** What the demo seeds into the API server (the CLI loads it from examples/). */
export interface DemoCluster {
  readonly policies: NodeQoSPolicy[];
  readonly nodes: Node[];
  readonly pods: Pod[];
}

export interface DemoNode {
  readonly name: string;
  readonly sim: SimulatedNode;
  readonly runtime: AgentRuntime;
  readonly pods: {
    readonly uid: string;
    readonly namespace: string;
    readonly name: string;
    readonly kubeQoS: KubeQoS;
  }[];
}

/** The API server the demo runs against: the embedded one by default, or any other (a real kube-apiserver). */
export interface DemoApiServer {
  readonly url: string;
  kubeConfig(): KubeConfig;
  writeKubeconfig(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface DemoOptions {
  readonly timeoutMs?: number;
  /** Run against this server (its objects are left behind); default: a new embedded dev server. */
  readonly apiServer?: DemoApiServer;
}

/**
 * The embedded dev server, imported only when the demo runs, so the controller and the agent never load it
 * (nor @bufbuild/cel); see docs/decisions/0112-devserver-out-of-the-production-path.md.
 */
async function embeddedApiServer(logger: Logger): Promise<DemoApiServer> {
  const { startDevServer } = await import('../devserver/index.ts');
  return startDevServer({ logger });
}

export interface RunningDemo {
  readonly server: DemoApiServer;
  readonly controller: RunningController;
  readonly nodes: DemoNode[];
  readonly dir: string;
  plan(nodeName: string): Promise<NodeIsolationPlan>;
  stop(): Promise<void>;
}

/** The pods' namespaces: a real API server refuses objects in a namespace that does not exist. */
async function seedNamespaces(http: KubeHttp, cluster: DemoCluster): Promise<void> {
  for (const name of new Set(cluster.pods.map(p => p.metadata.namespace))) {
    await http
      .request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      })
      .catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode !== 409) throw error;
      });
  }
}

async function seed(http: KubeHttp, cluster: DemoCluster): Promise<void> {
  await seedNamespaces(http, cluster);
  for (const policy of cluster.policies) {
    await http.request('POST', policiesPath, { body: { ...policy, status: undefined } });
  }
  for (const node of cluster.nodes)
    await http.request('POST', '/api/v1/nodes', { body: { apiVersion: 'v1', kind: 'Node', ...node } });
}

const demoImage = 'registry.k8s.io/pause:3.10';

async function createPod(http: KubeHttp, pod: Pod): Promise<string> {
  const created = await http.request<{ metadata: { uid: string } }>(
    'POST',
    `/api/v1/namespaces/${pod.metadata.namespace}/pods`,
    {
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        ...pod,
        metadata: { ...pod.metadata, uid: undefined },
        // The examples leave the image out; a real API server requires one (nothing ever runs it).
        spec: { ...pod.spec, containers: pod.spec.containers.map(c => ({ image: demoImage, ...c })) },
      },
    },
  );
  return created.metadata.uid;
}

interface DemoContext {
  readonly server: DemoApiServer;
  readonly http: KubeHttp;
  readonly dir: string;
  readonly cluster: DemoCluster;
  readonly logger: Logger;
}

async function startNode(
  { server, http, dir, cluster, logger }: DemoContext,
  index: number,
): Promise<DemoNode> {
  const node = cluster.nodes[index];
  if (!node) throw new Error(`no node ${index}`);
  const name = node.metadata.name;
  const cpus = Math.max(1, Math.ceil(cpuToMilli(node.status.capacity?.cpu ?? '1') / 1000));
  const sim = await createSimulatedNode(join(dir, name), cpus);
  await sim.setPressure(demoPressure[index % demoPressure.length] ?? 30);
  const pods: DemoNode['pods'][number][] = [];
  for (const pod of cluster.pods.filter(p => p.spec.nodeName === name)) {
    const uid = await createPod(http, pod);
    const kubeQoS = kubeQoSOf(pod);
    await sim.addPod({ uid, kubeQoS, containers: pod.spec.containers.map(c => c.name) });
    pods.push({ uid, namespace: pod.metadata.namespace, name: pod.metadata.name, kubeQoS });
  }
  const registry = new Registry();
  const agent = await NodeAgent.create({
    nodeName: name,
    ...sim.agentRoots,
    registry,
    logger: logger.child({ node: name }),
  });
  const agentHttp = new KubeHttp(server.kubeConfig());
  const runtime = new AgentRuntime({
    agent,
    cache: new PlanCache(sim.stateDir),
    logger: logger.child({ node: name }),
    registry,
    samplerFor: createSamplerSelector({ procRoot: sim.procRoot }),
    kube: {
      planSource: agentPlanSource(agentHttp, name),
      podSource: podSource(agentHttp, name),
      writeStatus: planStatusWriter(agentHttp, name),
    },
    resyncMs: 2000,
    statusIntervalMs: 2000,
  });
  await runtime.start();
  return { name, sim, runtime, pods };
}

/** Pressure per demo node, so the three suppress curves show three different BE quotas. */
const demoPressure = [45, 85, 65];

function applied(plan: NodeIsolationPlan | undefined, podCount: number): boolean {
  const status = plan?.status;
  return (
    plan !== undefined &&
    status !== undefined &&
    plan.spec.pods.length === podCount &&
    status.appliedGeneration === plan.metadata.generation &&
    status.conditions?.some(c => c.type === 'Applied' && c.status === 'True') === true &&
    status.pressure !== undefined
  );
}

async function waitApplied(
  node: DemoNode,
  plan: (name: string) => Promise<NodeIsolationPlan>,
  deadline: number,
): Promise<void> {
  while (!applied(await plan(node.name).catch(() => undefined), node.pods.length)) {
    if (Date.now() > deadline) throw new Error(`node ${node.name}: plan not applied in time`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

export async function startDemo(
  cluster: DemoCluster,
  logger: Logger,
  options: DemoOptions = {},
): Promise<RunningDemo> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = await mkdtemp(join(tmpdir(), 'nodeqos-demo-'));
  const server = options.apiServer ?? (await embeddedApiServer(logger));
  const http = new KubeHttp(server.kubeConfig());
  const nodes: DemoNode[] = [];
  const controller = runController({
    kubeConfig: server.kubeConfig(),
    logger,
    identity: 'demo',
    debounceMs: 50,
  });
  // Simulated time for /proc/stat: one step at a time, so a slow step is never overtaken by the next.
  let ticking: Promise<unknown> = Promise.resolve();
  const clock = setInterval(() => {
    ticking = ticking
      .then(() => Promise.all(nodes.map(node => node.sim.advanceStat(10))))
      .catch((error: unknown) => {
        logger.warn({ error: String(error) }, 'simulated /proc/stat not advanced');
      });
  }, 100);
  const stop = async (): Promise<void> => {
    clearInterval(clock);
    await ticking;
    await Promise.all(nodes.map(n => n.runtime.stop()));
    await controller.stop();
    if (options.apiServer === undefined) await server.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await seed(http, cluster);
    for (let i = 0; i < cluster.nodes.length; i++)
      nodes.push(await startNode({ server, http, dir, cluster, logger }, i));
    const plan = (name: string): Promise<NodeIsolationPlan> =>
      http.request<NodeIsolationPlan>('GET', `${plansPath}/${name}`);
    const deadline = Date.now() + timeoutMs;
    for (const node of nodes) await waitApplied(node, plan, deadline);
    return { server, controller, nodes, dir, plan, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
