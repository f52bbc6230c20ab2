// The system under chaos, in one process: an API server (the embedded one, or a real kube-apiserver behind the
// fault proxy; see api-server.ts), controller replicas with leader election, and one agent per simulated node, each started, killed (no graceful release: the lease is abandoned, the agent's
// file system and API writes die mid-flight) and restarted on demand. Broken variants swap in a planner that
// shares exclusive CPUs, an agent that never shrinks a cpuset, or a controller that re-applies every plan on a
// timer, to show the invariants catch them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { NodeAgent } from '../../src/agent/apply-plan.ts';
import { errnoError, type AgentFs } from '../../src/agent/fs.ts';
import { AgentRuntime } from '../../src/agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../src/agent/runtime/plan-cache.ts';
import type { PlanStatus } from '../../src/agent/runtime/plan-status.ts';
import { planStatusWriter } from '../../src/agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../src/agent/suppress/samplers/select.ts';
import { formatCpuList, parseCpuList } from '../../src/api/cpulist.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { Controller } from '../../src/controller/controller.ts';
import { kubeEventRecorder } from '../../src/controller/events.ts';
import { controllerMetrics, type ControllerMetrics } from '../../src/controller/metrics.ts';
import { runController, type RunningController } from '../../src/controller/run-controller.ts';
import { transformPlan } from '../../src/kube/transforms.ts';
import { createSimulatedNode, type SimulatedNode } from '../../src/demo/simulated-node.ts';
import type { RequestInfo } from '../../src/devserver/index.ts';
import { isConflict, isNotFound } from '../../src/kube/errors.ts';
import { KubeHttp, type RequestOptions } from '../../src/kube/http.ts';
import {
  agentPlanSource,
  nodeSource,
  planSource,
  plansPath,
  podSource,
  policiesPath,
  policySource,
} from '../../src/kube/sources.ts';
import {
  harnessRetrying,
  openApiServer,
  plansResource,
  type ApiServerChoice,
  type ChaosApiServer,
} from './api-server.ts';
import { kubeWriter, type ClusterWriter } from '../../src/kube/writers.ts';
import { KernelFs } from './kernel-fs.ts';
import type { KernelLimits } from './kernel-rules.ts';
import { PlanHistory } from './plan-history.ts';

export type BrokenVariant = 'union-cpusets-agent' | 'shared-exclusive-planner' | 'resync-writing-controller';

/** Query parameter on the harness's own requests (the dev server ignores it): injected faults spare them. */
const harnessMarker = 'nodeqos-chaos-harness';
export const fromHarness = (request: RequestInfo): boolean => request.query.has(harnessMarker);

export const leaseName = 'nodeqos-controller';

/** Counts warn/error log lines by message: how the system reacted (informer restarts, retries, lease losses). */
export class LogTally {
  readonly counts = new Map<string, number>();
  /** With NODEQOS_CHAOS_DEBUG set: every line at info and above, for a failing run's post-mortem. */
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor() {
    const debug = process.env.NODEQOS_CHAOS_DEBUG !== undefined;
    this.logger = pino(
      { level: debug ? 'info' : 'warn' },
      {
        write: (line: string): void => {
          if (debug) this.lines.push(line);
          const entry = JSON.parse(line) as { msg?: string; level?: number };
          if ((entry.level ?? 0) < 40) return;
          const msg = entry.msg ?? '?';
          this.counts.set(msg, (this.counts.get(msg) ?? 0) + 1);
        },
      },
    );
  }
}

/**
 * The harness's own client: on the dev server every request carries the marker (faults spare it); on another
 * server it has its own connection, past the fault proxy. It fails loudly with the status.
 */
export class HarnessClient {
  private readonly http: KubeHttp;
  private readonly mark: boolean;

  constructor(api: ChaosApiServer) {
    this.http = new KubeHttp(api.harnessKubeConfig());
    this.mark = api.marksHarnessRequests;
  }

  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    return harnessRetrying(() =>
      this.http.request<T>(method, path, {
        ...options,
        query: this.mark ? { ...options.query, [harnessMarker]: 1 } : options.query,
      }),
    );
  }

  /** Creates, or leaves alone what already exists (409); `ifServed`: a server without the resource (404) is fine. */
  async ensure(path: string, body: object, ifServed = false): Promise<void> {
    try {
      await this.request('POST', path, { body });
    } catch (error) {
      if (!isConflict(error) && !(ifServed && isNotFound(error))) throw error;
    }
  }

  /** Deletes at once (no grace period: no kubelet will confirm a pod's end); absent is fine. */
  async remove(path: string): Promise<void> {
    try {
      await this.request('DELETE', path, { query: { gracePeriodSeconds: 0 } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

class KillablePlanCache extends PlanCache {
  killed = false;

  override async save(plan: NodeIsolationPlan): Promise<void> {
    if (this.killed) throw errnoError('EIO', `agent process killed (${this.path})`);
    await super.save(plan);
  }

  override async clear(): Promise<void> {
    if (this.killed) throw errnoError('EIO', `agent process killed (${this.path})`);
    await super.clear();
  }
}

/** A broken agent: writes old ∪ new to every cpuset.cpus (pass 1 of the leveled update only), so never shrinks. */
export function unionCpusetsFs(inner: AgentFs): AgentFs {
  return {
    readFile: path => inner.readFile(path),
    listDirs: path => inner.listDirs(path),
    listNames: path => inner.listNames(path),
    exists: path => inner.exists(path),
    writeFile: async (path, data) => {
      if (basename(path) !== 'cpuset.cpus') return inner.writeFile(path, data);
      const current = parseCpuList(await inner.readFile(path));
      await inner.writeFile(path, formatCpuList([...current, ...parseCpuList(data)]));
    },
  };
}

/** A broken planner: every exclusive pod after the first gets the first one's CPUs. */
export function shareExclusiveCpus(plan: NodeIsolationPlan): NodeIsolationPlan {
  const first = plan.spec.pods.find(p => p.cpu.pinned === 'exclusive');
  if (!first) return plan;
  const pods = plan.spec.pods.map(p =>
    p.cpu.pinned === 'exclusive' && p.uid !== first.uid
      ? { ...p, cpu: { ...p.cpu, cpuset: first.cpu.cpuset } }
      : p,
  );
  return { ...plan, spec: { ...plan.spec, pods } };
}

function sharingWriter(inner: ClusterWriter): ClusterWriter {
  return { ...inner, applyPlan: (plan, basedOn) => inner.applyPlan(shareExclusiveCpus(plan), basedOn) };
}

interface RunningAgent {
  readonly runtime: AgentRuntime;
  readonly fs: KernelFs;
  readonly cache: KillablePlanCache;
  readonly status: { killed: boolean };
}

export interface NodeSlot {
  readonly name: string;
  readonly cpus: number;
  readonly numaNodes: number;
  readonly sim: SimulatedNode;
  readonly limits: KernelLimits;
  /** Writes the kernel rules refused, from every agent instance of this node. */
  readonly writeViolations: string[];
  agent: RunningAgent | undefined;
  starts: number;
  checkedWrites: number;
}

export interface RunningReplica {
  kill(): Promise<void>;
  stop(): Promise<void>;
  /** Plan writes (result `written`) this instance made. */
  planWrites(): Promise<number>;
}

export interface ControllerSlot {
  readonly name: string;
  running: RunningReplica | undefined;
  starts: number;
}

export interface NodeShape {
  readonly name: string;
  readonly cpus: number;
  readonly numaNodes: number;
}

export interface WorldOptions {
  readonly nodes: readonly NodeShape[];
  readonly controllers: number;
  readonly variant?: BrokenVariant | undefined;
  /** Small, so resuming watches also meet 410 Expired now and then (embedded server only). */
  readonly historyLimit: number;
  /** Default: the embedded server with historyLimit. */
  readonly apiServer?: ApiServerChoice | undefined;
}

/** The objects a run creates, by name, so a run on a server it does not own can clear them before and after. */
const chaosNodePrefix = 'chaos-';
const chaosNamespaces = ['default', 'batch'];

export class ChaosWorld {
  readonly api: ChaosApiServer;
  readonly harness: HarnessClient;
  readonly history: PlanHistory;
  readonly tally = new LogTally();
  readonly nodes: NodeSlot[];
  readonly controllers: ControllerSlot[];
  readonly variant: BrokenVariant | undefined;
  private readonly dir: string;

  private constructor(
    { api, history }: { api: ChaosApiServer; history: PlanHistory },
    dir: string,
    nodes: NodeSlot[],
    options: WorldOptions,
  ) {
    this.api = api;
    this.dir = dir;
    this.harness = new HarnessClient(api);
    this.history = history;
    this.nodes = nodes;
    this.variant = options.variant;
    this.controllers = Array.from({ length: options.controllers }, (_, i) => ({
      name: `ctl-${String.fromCharCode(97 + i)}`,
      running: undefined,
      starts: 0,
    }));
  }

  static async create(options: WorldOptions): Promise<ChaosWorld> {
    const dir = await mkdtemp(join(tmpdir(), 'nodeqos-chaos-'));
    const api = await openApiServer(
      options.apiServer ?? { kind: 'embedded', historyLimit: options.historyLimit },
    );
    if (api.external) await prepareExternal(new HarnessClient(api));
    const history = await PlanHistory.record(api);
    const nodes: NodeSlot[] = [];
    for (const shape of options.nodes) {
      const sim = await createSimulatedNode(join(dir, shape.name), shape.cpus, shape.numaNodes);
      nodes.push({
        ...shape,
        sim,
        limits: { cpus: shape.cpus, numaNodes: shape.numaNodes, pageSize: 4096 },
        writeViolations: [],
        agent: undefined,
        starts: 0,
        checkedWrites: 0,
      });
    }
    return new ChaosWorld({ api, history }, dir, nodes, options);
  }

  get logger(): Logger {
    return this.tally.logger;
  }

  startController(slot: ControllerSlot): void {
    if (slot.running) return;
    slot.starts++;
    const identity = `${slot.name}-${slot.starts}`;
    if (this.variant === 'shared-exclusive-planner') {
      slot.running = this.brokenController();
      return;
    }
    const running = runController({
      kubeConfig: this.api.systemKubeConfig(),
      logger: this.logger,
      identity,
      debounceMs: 50,
      stallMs: 3000,
      leaderElection: {
        namespace: 'default',
        name: leaseName,
        leaseDurationMs: 2000,
        renewDeadlineMs: 1500,
        retryPeriodMs: 300,
      },
    });
    const resync = this.variant === 'resync-writing-controller' ? this.resyncWrites(running) : undefined;
    slot.running = {
      // A crash: the lease is not released, so a standby waits for it to expire.
      kill: async () => {
        clearInterval(resync);
        running.elector?.abandon();
        await running.controller.stop();
      },
      stop: () => {
        clearInterval(resync);
        return running.stop();
      },
      planWrites: () => writtenPlans(running.metrics),
    };
  }

  /** A broken controller: while leading, it re-applies every stored plan unchanged every 500 ms (a resync that writes). */
  private resyncWrites(running: RunningController): NodeJS.Timeout {
    const writer = kubeWriter(new KubeHttp(this.api.systemKubeConfig()));
    return setInterval(() => {
      if (running.elector?.isLeader !== true) return;
      void (async () => {
        for (const slot of this.nodes) {
          const plan = transformPlan(await this.api.get(plansResource, slot.name));
          if (!plan) continue;
          await writer.applyPlan(plan);
          running.metrics.planWrites.inc({ result: 'written' });
        }
      })().catch(() => undefined);
    }, 500);
  }

  private brokenController(): RunningReplica {
    const http = new KubeHttp(this.api.systemKubeConfig());
    const metrics = controllerMetrics();
    const controller = new Controller(
      {
        policies: policySource(http),
        nodes: nodeSource(http),
        pods: podSource(http),
        plans: planSource(http),
      },
      sharingWriter(kubeWriter(http)),
      {
        concurrency: 4,
        debounceMs: 50,
        maxWaitMs: 250,
        stallMs: 3000,
        logger: this.logger,
        metrics,
        events: kubeEventRecorder(http, 'nodeqos-controller', this.logger),
      },
    );
    controller.startInformers();
    controller.startLeading();
    return {
      kill: () => controller.stop(),
      stop: () => controller.stop(),
      planWrites: () => writtenPlans(metrics),
    };
  }

  /** Plan writes by the controller instances running now. */
  async planWrites(): Promise<number> {
    let sum = 0;
    for (const slot of this.controllers) sum += (await slot.running?.planWrites()) ?? 0;
    return sum;
  }

  async killController(slot: ControllerSlot): Promise<void> {
    const running = slot.running;
    slot.running = undefined;
    await running?.kill();
  }

  async startAgent(slot: NodeSlot): Promise<void> {
    if (slot.agent) return;
    slot.starts++;
    const { sim } = slot;
    const kernelFs = new KernelFs({
      cgroupRoot: sim.cgroupRoot,
      procRoot: sim.procRoot,
      limits: slot.limits,
      violations: slot.writeViolations,
    });
    const logger = this.logger.child({ node: slot.name, instance: slot.starts });
    const registry = new Registry();
    const agent = await NodeAgent.create({
      nodeName: slot.name,
      ...sim.agentRoots,
      fs: this.variant === 'union-cpusets-agent' ? unionCpusetsFs(kernelFs) : kernelFs,
      logger,
      registry,
      backoffBaseMs: 200,
      backoffMaxMs: 2000,
    });
    const http = new KubeHttp(this.api.systemKubeConfig());
    const status = { killed: false };
    const writeStatus = planStatusWriter(http, slot.name);
    const cache = new KillablePlanCache(sim.stateDir);
    const runtime = new AgentRuntime({
      agent,
      cache,
      logger,
      registry,
      samplerFor: createSamplerSelector({ procRoot: sim.procRoot }),
      kube: {
        planSource: agentPlanSource(http, slot.name),
        podSource: podSource(http, slot.name),
        writeStatus: async (s: PlanStatus) => {
          if (status.killed) throw new Error('agent process killed');
          await writeStatus(s);
        },
      },
      resyncMs: 500,
      statusIntervalMs: 1000,
      stallMs: 3000,
    });
    slot.agent = { runtime, fs: kernelFs, cache, status };
    await runtime.start();
  }

  /** A crash: from now on nothing this instance does reaches the files or the API; then its timers are cleared. */
  async killAgent(slot: NodeSlot): Promise<void> {
    const running = slot.agent;
    if (!running) return;
    slot.agent = undefined;
    running.fs.kill();
    running.cache.killed = true;
    running.status.killed = true;
    await running.runtime.stop();
    slot.checkedWrites += running.fs.writes;
  }

  async stopAgent(slot: NodeSlot): Promise<void> {
    const running = slot.agent;
    if (!running) return;
    slot.agent = undefined;
    await running.runtime.stop();
    slot.checkedWrites += running.fs.writes;
  }

  /** Writes checked so far, including those of the instances still running. */
  checkedWrites(): number {
    return this.nodes.reduce((sum, n) => sum + n.checkedWrites + (n.agent?.fs.writes ?? 0), 0);
  }

  async close(): Promise<void> {
    for (const slot of this.nodes) await this.stopAgent(slot);
    for (const slot of this.controllers) {
      const running = slot.running;
      slot.running = undefined;
      await running?.stop();
    }
    this.history.stop();
    try {
      if (this.api.external) await clearExternal(this.harness);
    } finally {
      await this.api.close();
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}

async function writtenPlans(metrics: ControllerMetrics): Promise<number> {
  const metric = await metrics.planWrites.get();
  return metric.values.filter(v => v.labels.result === 'written').reduce((sum, v) => sum + v.value, 0);
}

/** Everything a run creates on a server it does not own, from an earlier run that died or from this one. */
async function clearExternal(harness: HarnessClient): Promise<void> {
  const names = async (path: string): Promise<{ name: string; namespace?: string }[]> =>
    (
      (await harness.request<{ items?: { metadata: { name: string; namespace?: string } }[] }>('GET', path))
        .items ?? []
    ).map(i => i.metadata);
  for (const plan of await names(plansPath)) await harness.remove(`${plansPath}/${plan.name}`);
  for (const policy of await names(policiesPath))
    if (policy.name.startsWith(chaosNodePrefix)) await harness.remove(`${policiesPath}/${policy.name}`);
  for (const namespace of chaosNamespaces)
    for (const pod of await names(`/api/v1/namespaces/${namespace}/pods`))
      await harness.remove(`/api/v1/namespaces/${namespace}/pods/${pod.name}`);
  for (const node of await names('/api/v1/nodes'))
    if (node.name.startsWith(chaosNodePrefix)) await harness.remove(`/api/v1/nodes/${node.name}`);
  await harness.remove(`/apis/coordination.k8s.io/v1/namespaces/default/leases/${leaseName}`);
}

/**
 * A server the suite does not own: the CRDs must be served (the kube-apiserver harness applies crds/), leftovers of
 * an earlier run go, and the namespaces and their default ServiceAccounts exist (no controller-manager makes them,
 * and pod admission wants the account).
 */
async function prepareExternal(harness: HarnessClient): Promise<void> {
  try {
    await harness.request('GET', policiesPath);
  } catch (error) {
    throw new Error(
      `the API server does not serve NodeQoSPolicy (${error instanceof Error ? error.message : String(error)}): apply crds/ first`,
      { cause: error },
    );
  }
  await clearExternal(harness);
  for (const namespace of chaosNamespaces) {
    await harness.ensure('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    await harness.ensure(
      `/api/v1/namespaces/${namespace}/serviceaccounts`,
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace },
      },
      true,
    );
  }
}
