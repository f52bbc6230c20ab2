// Assembles a running controller from a KubeConfig: sources, writer, events, leader election, metrics.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KubeHttp } from '../kube/http.ts';
import { kubeLeaseClient } from '../kube/lease-client.ts';
import { nodeSource, planSource, podSource, policySource } from '../kube/sources.ts';
import { kubeWriter } from '../kube/writers.ts';
import { Controller } from './controller.ts';
import { kubeEventRecorder } from './events.ts';
import { LeaderElector, type LeaderElectionClock } from './leader-election.ts';
import { controllerMetrics, type ControllerMetrics } from './metrics.ts';

export interface RunControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly identity: string;
  readonly concurrency?: number;
  readonly debounceMs?: number;
  readonly stallMs?: number;
  /** Minimum time between two adoptions of a node's reported topology (default 30 s). */
  readonly topologyReplanIntervalMs?: number;
  readonly leaderElection?: {
    readonly namespace: string;
    readonly name: string;
    readonly leaseDurationMs?: number;
    readonly renewDeadlineMs?: number;
    readonly retryPeriodMs?: number;
    /** Tests skew it; the default is the system's clocks. */
    readonly clock?: Partial<LeaderElectionClock>;
  };
}

export interface RunningController {
  readonly controller: Controller;
  readonly metrics: ControllerMetrics;
  readonly elector: LeaderElector | undefined;
  stop(): Promise<void>;
}

export function runController(options: RunControllerOptions): RunningController {
  const http = new KubeHttp(options.kubeConfig);
  const metrics = controllerMetrics();
  const debounceMs = options.debounceMs ?? 200;
  const controller = new Controller(
    { policies: policySource(http), nodes: nodeSource(http), pods: podSource(http), plans: planSource(http) },
    kubeWriter(http),
    {
      concurrency: options.concurrency ?? 4,
      debounceMs,
      maxWaitMs: debounceMs * 5,
      stallMs: options.stallMs ?? 120_000,
      logger: options.logger,
      metrics,
      events: kubeEventRecorder(http, 'nodeqos-controller', options.logger),
      topologyReplanIntervalMs: options.topologyReplanIntervalMs,
    },
  );
  controller.startInformers();
  const le = options.leaderElection;
  const elector =
    le &&
    new LeaderElector(kubeLeaseClient(http, le.namespace, le.name), {
      identity: options.identity,
      namespace: le.namespace,
      name: le.name,
      leaseDurationMs: le.leaseDurationMs ?? 15_000,
      renewDeadlineMs: le.renewDeadlineMs ?? 10_000,
      retryPeriodMs: le.retryPeriodMs ?? 2_000,
      clock: le.clock,
      logger: options.logger,
      onStartedLeading: () => {
        controller.startLeading();
      },
      onStoppedLeading: () => {
        void controller.stopLeading();
      },
    });
  if (elector) elector.start();
  else controller.startLeading();
  return {
    controller,
    metrics,
    elector,
    async stop() {
      await controller.stopLeading();
      await elector?.stop();
      await controller.stop();
    },
  };
}
