// nodeqos controller: plans every node from the cluster's policies, nodes and pods.
import { hostname } from 'node:os';
import { runController } from '../../controller/run-controller.ts';
import { loadKubeConfig } from '../../kube/kubeconfig.ts';
import { createLogger, type LogLevel } from '../../observability/logger.ts';
import { startMetricsServer } from '../../observability/metrics-server.ts';

export interface ControllerCommandOptions {
  kubeconfig?: string;
  metricsPort: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  concurrency: number;
  debounceMs: number;
  /** Seconds; at most one adoption of a node's newly reported topology per interval. */
  topologyReplanInterval: number;
  logLevel: LogLevel;
}

export async function runControllerCommand(options: ControllerCommandOptions): Promise<void> {
  const logger = createLogger('nodeqos-controller', options.logLevel);
  const identity = process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  const running = runController({
    kubeConfig: loadKubeConfig(options.kubeconfig),
    logger,
    identity,
    concurrency: options.concurrency,
    debounceMs: options.debounceMs,
    topologyReplanIntervalMs: options.topologyReplanInterval * 1000,
    leaderElection: options.leaderElect
      ? { namespace: options.leaseNamespace, name: options.leaseName }
      : undefined,
  });
  const metrics = await startMetricsServer({
    registries: [running.metrics.registry],
    port: options.metricsPort,
    ready: () => running.controller.synced,
  });
  logger.info(
    { identity, metricsPort: metrics.port, leaderElection: options.leaderElect },
    'controller started',
  );
  await new Promise<void>(resolve => {
    const shutdown = (signal: string): void => {
      logger.info({ signal }, 'shutting down: finishing in-flight writes, releasing the lease');
      void running
        .stop()
        .then(() => metrics.close())
        .then(resolve);
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}
