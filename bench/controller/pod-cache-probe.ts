// Retained heap per cached pod, in a process of its own (run with --expose-gc), against the parent's dev server:
// heap used after a forced GC with the pod cache populated, minus the same once the cache is dropped again (after
// two warm-up caches were filled and dropped), divided by the pods.
//   nodeqos:     the controller's Informer with its transform (src/kube/transforms.ts), then also its by-node index
//   client-node: @kubernetes/client-node's makeInformer over CoreV1Api.listPodForAllNamespaces: whole V1Pod
//                objects as its ListWatch caches them
// Both list the pods in one request, so the transient list is the same size on both sides.
// argv: <kubeconfig> <nodeqos|client-node>
import { CoreV1Api, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { PodIndex } from '../../src/controller/cluster-state.ts';
import { Informer } from '../../src/kube/informer.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { podSource } from '../../src/kube/sources.ts';
import type { CachedPod } from '../../src/kube/transforms.ts';
import { serveParent } from '../lib/ipc.ts';
import { procMemory } from '../lib/proc.ts';
import { listPodsInOneRequest } from './start-controller.ts';

export const probeModes = ['nodeqos', 'client-node'] as const;
export type ProbeMode = (typeof probeModes)[number];

export interface ProbeRequest {
  readonly expectedPods: number;
}

export interface ProbeResult {
  readonly pods: number;
  /** Heap after GC before the measured cache was filled. */
  readonly emptyHeapBytes: number;
  readonly populatedHeapBytes: number;
  /** nodeqos only: with the controller's PodIndex built over the cache as well. */
  readonly withIndexHeapBytes: number | undefined;
  /** Heap after GC once the measured cache was stopped and dropped again. */
  readonly releasedHeapBytes: number;
  readonly listMs: number;
  /** VmHWM after the first fill: one list response plus one full cache. */
  readonly peakRssBytes: number;
}

const [kubeconfigPath, modeArg] = process.argv.slice(2);
if (kubeconfigPath === undefined || !probeModes.includes(modeArg as ProbeMode))
  throw new Error(`usage: pod-cache-probe.ts <kubeconfig> <${probeModes.join('|')}>`);
const mode = modeArg as ProbeMode;

function settledHeap(): number {
  if (!global.gc) throw new Error('pod-cache-probe needs node --expose-gc');
  for (let i = 0; i < 3; i++) global.gc();
  return process.memoryUsage().heapUsed;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  // Let the list's response buffers and parse results fall out of scope before the GC.
  await new Promise(resolve => setTimeout(resolve, 200));
}

/** One pod cache under test: started, synced, sized, stopped. */
interface PodCache {
  start(): Promise<void>;
  synced(): boolean;
  size(): number;
  stop(): Promise<void>;
  /** nodeqos: builds the controller's by-node index over the cache and keeps it alive until stop(). */
  index?(): void;
}

function nodeqosCache(): PodCache {
  const http = new KubeHttp(loadKubeConfig(kubeconfigPath));
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const informer = new Informer<CachedPod>(
    { ...podSource(http), list: () => listPodsInOneRequest(http) },
    {},
    { stallMs: 600_000, backoff: { initialMs: 500, maxMs: 30_000 }, logger },
  );
  let index: PodIndex | undefined;
  return {
    start: async () => {
      informer.start();
    },
    synced: () => informer.hasSynced,
    size: () => informer.size,
    stop: async () => {
      informer.stop();
      index = undefined;
    },
    index: () => {
      index = new PodIndex();
      for (const pod of informer.list()) index.upsert(pod);
    },
  };
}

function clientNodeCache(expectedPods: number): PodCache {
  const kubeConfig = loadKubeConfig(kubeconfigPath);
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(kubeConfig, '/api/v1/pods', () => api.listPodForAllNamespaces());
  let stopping = false;
  informer.on('error', (error: unknown) => {
    if (!stopping) throw new Error(`client-node informer failed: ${String(error)}`);
  });
  return {
    start: () => informer.start(),
    synced: () => informer.list().length >= expectedPods,
    size: () => informer.list().length,
    stop: async () => {
      stopping = true;
      await informer.stop();
    },
  };
}

async function fill(cache: PodCache): Promise<number> {
  const start = performance.now();
  await cache.start();
  await until(() => cache.synced(), `the ${mode} pod cache to sync`);
  return performance.now() - start;
}

const settle = (ms: number): Promise<unknown> => new Promise(resolve => setTimeout(resolve, ms));

/** Fills a cache and drops it (nothing outside this function refers to it); returns VmHWM after the fill. */
async function warmUp(makeCache: () => PodCache): Promise<number> {
  const cache = makeCache();
  await fill(cache);
  const peakRssBytes = procMemory(process.pid).peakRssBytes;
  await cache.stop();
  return peakRssBytes;
}

interface Filled {
  readonly pods: number;
  readonly listMs: number;
  readonly populatedHeapBytes: number;
  readonly withIndexHeapBytes: number | undefined;
}

/** Fills the measured cache, takes the heap with it (and with the index), and drops it again. */
async function fillMeasured(makeCache: () => PodCache): Promise<Filled> {
  const cache = makeCache();
  const listMs = await fill(cache);
  const populatedHeapBytes = settledHeap();
  let withIndexHeapBytes: number | undefined;
  if (cache.index) {
    cache.index();
    withIndexHeapBytes = settledHeap();
  }
  const pods = cache.size();
  await cache.stop();
  return { pods, listMs, populatedHeapBytes, withIndexHeapBytes };
}

/**
 * Two caches are filled and dropped before the measured one, so code compiled on first use (JIT, lazily built
 * schemas, HTTP client state) is in every heap figure, and so are the leftovers one fill leaves for the next to
 * release (the previous response's buffers, connection state: after a single warm-up they are released during
 * the measured fill and make "before" read too high). The measured cache is compared with the heap after it was
 * dropped (the reported figure) and with the heap before it was filled (a cross-check). A second after each drop
 * lets the aborted watch release its callbacks, which refer to the cache.
 */
async function probe(makeCache: () => PodCache, expectedPods: number): Promise<ProbeResult> {
  const peakRssBytes = await warmUp(makeCache);
  await settle(1_000);
  await warmUp(makeCache);
  await settle(1_000);
  const emptyHeapBytes = settledHeap();
  const filled = await fillMeasured(makeCache);
  await settle(1_000);
  const releasedHeapBytes = settledHeap();
  if (filled.pods !== expectedPods) throw new Error(`cached ${filled.pods} pods, expected ${expectedPods}`);
  return { ...filled, emptyHeapBytes, releasedHeapBytes, peakRssBytes };
}

serveParent((request: ProbeRequest) =>
  probe(
    () => (mode === 'nodeqos' ? nodeqosCache() : clientNodeCache(request.expectedPods)),
    request.expectedPods,
  ),
);
