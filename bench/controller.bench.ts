// Controller at scale against the embedded API server. The dev server (and the seeding, which is not measured)
// runs in this process; the controller runs in a child process, so its RSS, heap and CPU time are its own.
//   cold start     time from starting the controller until every node's plan is stored
//   steady state   plan writes with nothing changing (goal 0 per minute)
//   pod burst      1,000 pod events on one node -> plan writes for that node (goal <= 2)
//   policy edit    a policy winning 10% of the nodes changes -> time until all their plans are rewritten
//   memory         peak RSS of the controller process (kernel VmHWM); heap after GC with every cache full
//   pod cache      retained heap per cached pod, nodeqos's transformed informer vs client-node's informer
// Plan writes are counted on the server side (the store's events), not from the controller's own metrics.
// Flags: --quick (150 nodes), --nodes=<n> (30 pods each; default 5,000), --only=scale,paged,pod-cache.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startDevServer, type DevServer } from '../src/devserver/index.ts';
import {
  editPoolPolicy,
  nodeName,
  nodesOfPool,
  podBurst,
  seedCluster,
  seedPods,
  type ClusterShape,
} from './controller/cluster.ts';
import type { ControllerReply, ControllerRequest, ControllerStats } from './controller/controller-child.ts';
import { PlanLog } from './controller/plan-log.ts';
import type { ProbeMode, ProbeRequest, ProbeResult } from './controller/pod-cache-probe.ts';
import type { Listing } from './controller/start-controller.ts';
import { emit, numberOption, quick, result, selected } from './harness.ts';
import { startChild, type ChildHandle } from './lib/ipc.ts';
import { procMemory } from './lib/proc.ts';
import { kubeletPod } from './kubelet-pod.ts';

const scale: ClusterShape = {
  nodes: numberOption('nodes') ?? (quick ? 150 : 5000),
  podsPerNode: 30,
  policies: 20,
};
const pagedScale: ClusterShape = { nodes: quick ? 50 : 500, podsPerNode: 30, policies: 20 };
const steadyMs = quick ? 2_000 : 30_000;
const burstEvents = 1000;
const editedPool = 3;
const probePods = quick ? 1_000 : 10_000;
const waitMs = 900_000;

type Controller = ChildHandle<ControllerRequest, ControllerReply>;
const childScript = (name: string): string => fileURLToPath(new URL(`./controller/${name}`, import.meta.url));
const mib = (bytes: number): number => bytes / 1024 / 1024;

async function startServer(): Promise<DevServer> {
  return startDevServer({ historyLimit: 5000, logger: pino({ level: 'silent' }) });
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'nodeqos-bench-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function stats(controller: Controller, gc = false): Promise<ControllerStats> {
  const reply = await controller.request({ type: 'stats', gc });
  if (!reply) throw new Error('controller child sent no stats');
  return reply;
}

/** Waits out the debounce and max wait (1 s), twice in full mode, so writes caused by the last change have landed. */
async function settle(controller: Controller): Promise<void> {
  for (let i = 0; i < (quick ? 1 : 2); i++) {
    await sleep(1_500);
    await controller.request({ type: 'idle' });
  }
}

interface ColdStart {
  readonly syncedMs: number;
  readonly allPlansMs: number;
  readonly cpuMs: number;
}

async function coldStart(controller: Controller, log: PlanLog, shape: ClusterShape): Promise<ColdStart> {
  const nodes = new Set(Array.from({ length: shape.nodes }, (_, n) => nodeName(n)));
  const mark = log.mark();
  const cpuBefore = (await stats(controller)).cpuMs;
  const start = performance.now();
  const allPlans = log.waitForNodes(nodes, mark, event => event.type !== 'DELETED', waitMs);
  await controller.request({ type: 'start' });
  await controller.request({ type: 'synced' });
  const syncedMs = performance.now() - start;
  const allPlansMs = (await allPlans) - start;
  await controller.request({ type: 'idle' });
  return { syncedMs, allPlansMs, cpuMs: (await stats(controller)).cpuMs - cpuBefore };
}

interface Steady {
  readonly windowMs: number;
  readonly planWrites: number;
  readonly planWritesPerMinute: number;
  readonly reconcilesPerMinute: number;
  readonly cpuPercentOfOneCore: number;
}

async function steadyState(controller: Controller, log: PlanLog): Promise<Steady> {
  await settle(controller);
  const mark = log.mark();
  const before = await stats(controller);
  await sleep(steadyMs);
  const after = await stats(controller);
  const reconciles = Object.values(after.planWrites).reduce((a, b) => a + b, 0);
  const reconcilesBefore = Object.values(before.planWrites).reduce((a, b) => a + b, 0);
  const perMinute = 60_000 / steadyMs;
  return {
    windowMs: steadyMs,
    planWrites: log.since(mark).length,
    planWritesPerMinute: log.since(mark).length * perMinute,
    reconcilesPerMinute: (reconciles - reconcilesBefore) * perMinute,
    cpuPercentOfOneCore: ((after.cpuMs - before.cpuMs) / steadyMs) * 100,
  };
}

interface Burst {
  readonly events: number;
  readonly podsAdded: number;
  readonly burstMs: number;
  readonly planWrites: number;
  readonly otherNodeWrites: number;
  readonly lastWriteAfterMs: number;
}

async function podBurstCase(
  controller: Controller,
  log: PlanLog,
  server: DevServer,
  shape: ClusterShape,
): Promise<Burst> {
  const target = nodeName(7);
  const mark = log.mark();
  const start = performance.now();
  const added = podBurst(server.store, target, burstEvents, shape.nodes * shape.podsPerNode);
  const burstMs = performance.now() - start;
  await settle(controller);
  const events = log.since(mark);
  const onTarget = events.filter(e => e.node === target);
  return {
    events: burstEvents,
    podsAdded: added,
    burstMs,
    planWrites: onTarget.length,
    otherNodeWrites: events.length - onTarget.length,
    lastWriteAfterMs: (onTarget.at(-1)?.at ?? start) - start,
  };
}

interface PolicyEdit {
  readonly affectedNodes: number;
  readonly convergeMs: number;
  readonly planWrites: number;
  readonly unaffectedNodeWrites: number;
}

async function policyEditCase(
  controller: Controller,
  log: PlanLog,
  server: DevServer,
  shape: ClusterShape,
): Promise<PolicyEdit> {
  const affected = nodesOfPool(shape, editedPool);
  const mark = log.mark();
  const start = performance.now();
  const generation = editPoolPolicy(server.store, editedPool);
  const convergedAt = await log.waitForNodes(
    affected,
    mark,
    event => event.policyGeneration === generation,
    waitMs,
  );
  await settle(controller);
  const events = log.since(mark);
  return {
    affectedNodes: affected.size,
    convergeMs: convergedAt - start,
    planWrites: events.length,
    unaffectedNodeWrites: events.filter(e => !affected.has(e.node)).length,
  };
}

async function withController<T>(
  server: DevServer,
  listing: Listing,
  fn: (controller: Controller, log: PlanLog) => Promise<T>,
): Promise<T> {
  return withTempDir(async dir => {
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig);
    const log = new PlanLog(server.store);
    const controller = await startChild<ControllerRequest, ControllerReply>(
      childScript('controller-child.ts'),
      {
        args: [kubeconfig, listing],
        execArgv: ['--expose-gc'],
      },
    );
    try {
      const value = await fn(controller, log);
      await controller.request({ type: 'stop' });
      return value;
    } finally {
      log.close();
      await controller.close();
    }
  });
}

function seed(server: DevServer, shape: ClusterShape): void {
  const start = performance.now();
  seedCluster(server.store, shape);
  emit({
    bench: 'controller',
    case: 'seed (not measured: written straight into the store)',
    nodes: shape.nodes,
    pods: shape.nodes * shape.podsPerNode,
    policies: shape.policies,
    ms: performance.now() - start,
  });
}

async function scaleRun(): Promise<Record<string, number>> {
  const server = await startServer();
  try {
    seed(server, scale);
    return await withController(server, 'single', async (controller, log) => {
      const cold = await coldStart(controller, log, scale);
      emit({ bench: 'controller', case: 'cold start (pod list in one request)', ...scale, ...cold });
      const steady = await steadyState(controller, log);
      emit({ bench: 'controller', case: 'steady state, no changes', ...steady });
      const burst = await podBurstCase(controller, log, server, scale);
      emit({ bench: 'controller', case: `${burstEvents} pod events on one node`, ...burst });
      const edit = await policyEditCase(controller, log, server, scale);
      emit({ bench: 'controller', case: 'policy edit matching 10% of nodes', ...edit });
      const final = await stats(controller, true);
      const peakRssBytes = procMemory(controller.pid).peakRssBytes;
      const podCount = scale.nodes * scale.podsPerNode + burst.podsAdded;
      emit({
        bench: 'controller',
        case: 'controller process memory',
        peakRssMiB: mib(peakRssBytes),
        heapAfterGcMiB: mib(final.heapUsedBytes),
        heapBytesPerPod: final.heapUsedBytes / podCount,
      });
      return {
        nodes: scale.nodes,
        pods: scale.nodes * scale.podsPerNode,
        cold_start_all_plans_s: cold.allPlansMs / 1000,
        cold_start_synced_s: cold.syncedMs / 1000,
        cold_start_controller_cpu_s: cold.cpuMs / 1000,
        steady_plan_writes_per_min: steady.planWritesPerMinute,
        burst_plan_writes: burst.planWrites,
        policy_edit_converge_s: edit.convergeMs / 1000,
        policy_edit_plan_writes: edit.planWrites,
        peak_rss_mib: mib(peakRssBytes),
        heap_after_gc_mib: mib(final.heapUsedBytes),
      };
    });
  } finally {
    await server.close();
  }
}

async function pagedCrossCheck(): Promise<Record<string, number>> {
  const server = await startServer();
  try {
    seed(server, pagedScale);
    const { cold, peakRssBytes } = await withController(server, 'paged', async (controller, log) => ({
      cold: await coldStart(controller, log, pagedScale),
      peakRssBytes: procMemory(controller.pid).peakRssBytes,
    }));
    emit({
      bench: 'controller',
      case: 'cold start, runController as shipped (500-pod pages)',
      ...pagedScale,
      ...cold,
      peakRssMiB: mib(peakRssBytes),
    });
    return {
      paged_nodes: pagedScale.nodes,
      paged_peak_rss_mib: mib(peakRssBytes),
      paged_cold_start_all_plans_s: cold.allPlansMs / 1000,
      paged_cold_start_synced_s: cold.syncedMs / 1000,
    };
  } finally {
    await server.close();
  }
}

async function probe(server: DevServer, mode: ProbeMode): Promise<ProbeResult> {
  return withTempDir(async dir => {
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig);
    const child = await startChild<ProbeRequest, ProbeResult>(childScript('pod-cache-probe.ts'), {
      args: [kubeconfig, mode],
      execArgv: ['--expose-gc'],
    });
    try {
      return await child.request({ expectedPods: probePods });
    } finally {
      await child.close();
    }
  });
}

async function podCacheRun(): Promise<Record<string, number>> {
  const server = await startServer();
  try {
    seedPods(
      server.store,
      Array.from({ length: probePods }, (_, i) => kubeletPod(nodeName(i % 1000), i)),
    );
    const podJsonBytes = Buffer.byteLength(JSON.stringify(kubeletPod(nodeName(0), 0)));
    const ours = await probe(server, 'nodeqos');
    const theirs = await probe(server, 'client-node');
    /** Populated minus dropped (the reported figure), and populated minus before-fill (a cross-check). */
    const perPod = (r: ProbeResult, heap: number): { released: number; added: number } => ({
      released: (heap - r.releasedHeapBytes) / r.pods,
      added: (heap - r.emptyHeapBytes) / r.pods,
    });
    const oursPerPod = perPod(ours, ours.populatedHeapBytes);
    const oursWithIndex = perPod(ours, ours.withIndexHeapBytes ?? NaN);
    const theirsPerPod = perPod(theirs, theirs.populatedHeapBytes);
    for (const [name, r, bytes] of [
      ['nodeqos Informer, transformed pods', ours, oursPerPod],
      ['nodeqos Informer + the controller PodIndex', ours, oursWithIndex],
      ['client-node makeInformer, whole V1Pod objects (baseline)', theirs, theirsPerPod],
    ] as const)
      emit({
        bench: 'controller',
        case: `pod cache: ${name}`,
        pods: r.pods,
        podJsonBytes,
        retainedBytesPerPod: bytes.released,
        crossCheckBytesPerPod: bytes.added,
        listMs: r.listMs,
        peakRssMiB: mib(r.peakRssBytes),
      });
    return {
      probe_pods: probePods,
      pod_json_bytes: podJsonBytes,
      bytes_per_pod_nodeqos: oursPerPod.released,
      bytes_per_pod_nodeqos_with_index: oursWithIndex.released,
      bytes_per_pod_client_node: theirsPerPod.released,
      client_node_over_nodeqos: theirsPerPod.released / oursPerPod.released,
    };
  } finally {
    await server.close();
  }
}

const figures = {
  ...(selected('scale') ? await scaleRun() : {}),
  ...(selected('paged') ? await pagedCrossCheck() : {}),
  ...(selected('pod-cache') ? await podCacheRun() : {}),
};
result('controller', figures);
