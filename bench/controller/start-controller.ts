// The controller under test. `paged` is runController exactly as `nodeqos controller` runs it. `single` is the
// same assembly (sources, writer, events, metrics, queue settings) with one difference: the pod informer lists
// in one request instead of 500-pod pages. The dev server re-clones and re-sorts the whole pod store for every
// page (O(pods) per page, O(pods^2) per list: 30k pods take ~27 s, 150k would take ~11 min), where a real
// API server serves a page from its watch cache in O(page). `single` keeps that dev-server artifact out of the
// figures at 150k pods; the benchmark runs `paged` too, at a size where the artifact is small, to cross-check.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Controller } from '../../src/controller/controller.ts';
import { kubeEventRecorder } from '../../src/controller/events.ts';
import { controllerMetrics, type ControllerMetrics } from '../../src/controller/metrics.ts';
import { runController } from '../../src/controller/run-controller.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import type { ListPage } from '../../src/kube/informer.ts';
import { nodeSource, planSource, podSource, policySource } from '../../src/kube/sources.ts';
import { kubeWriter } from '../../src/kube/writers.ts';

export const listings = ['paged', 'single'] as const;
export type Listing = (typeof listings)[number];

export interface BenchController {
  readonly controller: Controller;
  readonly metrics: ControllerMetrics;
  stop(): Promise<void>;
}

/** runController's defaults (src/controller/run-controller.ts). */
const debounceMs = 200;

export async function listPodsInOneRequest(http: KubeHttp): Promise<ListPage> {
  const body = await http.request<{ items?: unknown[]; metadata?: { resourceVersion?: string } }>(
    'GET',
    '/api/v1/pods',
    { query: { fieldSelector: 'spec.nodeName!=' }, timeoutMs: 300_000 },
  );
  return { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? '' };
}

function startSingleListController(kubeConfig: KubeConfig, logger: Logger): BenchController {
  const http = new KubeHttp(kubeConfig);
  const metrics = controllerMetrics();
  const controller = new Controller(
    {
      policies: policySource(http),
      nodes: nodeSource(http),
      pods: { ...podSource(http), list: () => listPodsInOneRequest(http) },
      plans: planSource(http),
    },
    kubeWriter(http),
    {
      concurrency: 4,
      debounceMs,
      maxWaitMs: debounceMs * 5,
      stallMs: 120_000,
      logger,
      metrics,
      events: kubeEventRecorder(http, 'nodeqos-controller', logger),
    },
  );
  controller.startInformers();
  controller.startLeading();
  return { controller, metrics, stop: () => controller.stop() };
}

export function startBenchController(
  kubeConfig: KubeConfig,
  logger: Logger,
  listing: Listing,
): BenchController {
  if (listing === 'single') return startSingleListController(kubeConfig, logger);
  const running = runController({ kubeConfig, logger, identity: 'bench' });
  return { controller: running.controller, metrics: running.metrics, stop: () => running.stop() };
}
