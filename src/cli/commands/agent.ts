// nodeqos agent: enforce this node's NodeIsolationPlan in the cluster (`--once` and `--restore` are agent-once.ts).
import { Registry } from 'prom-client';
import { NodeAgent } from '../../agent/apply-plan.ts';
import { layoutFor } from '../../agent/discovery/cgroup-mode.ts';
import { defaultRouteInterface } from '../../agent/discovery/default-route.ts';
import { NetQos } from '../../agent/executor/net-qos.ts';
import { nodeFs } from '../../agent/fs.ts';
import { AgentRuntime } from '../../agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../agent/suppress/samplers/select.ts';
import { watchedHierarchies } from '../../agent/watch/hierarchies.ts';
import { LiteKubeClient } from '../../kube/lite/client.ts';
import { loadConnection } from '../../kube/lite/config.ts';
import { agentPlanSource, podSource } from '../../kube/sources.ts';
import { createLogger } from '../../observability/logger.ts';
import { startMetricsServer } from '../../observability/metrics-server.ts';
import { UsageError } from '../usage-error.ts';
import { agentOptions, logLevelFor, stateDirFor, type AgentCommandOptions } from './agent-options.ts';

export type { AgentCommandOptions } from './agent-options.ts';

async function networkInterface(options: AgentCommandOptions): Promise<string> {
  const found = options.interface ?? (await defaultRouteInterface(nodeFs, options.procRoot));
  if (found === null) throw new UsageError('--network-qos: no default route found; pass --interface');
  return found;
}

export async function runAgentCommand(options: AgentCommandOptions): Promise<number> {
  const nodeName = options.nodeName ?? process.env.NODE_NAME;
  if (nodeName === undefined || nodeName === '')
    throw new UsageError('--node-name (or $NODE_NAME) is required');
  const stateDir = stateDirFor(options);
  const registry = new Registry();
  const logger = createLogger('nodeqos-agent', logLevelFor(options));
  // The small undici client (src/kube/lite), not client-node: the agent runs on every node (decision 0111).
  const http = new LiteKubeClient(loadConnection({ kubeconfig: options.kubeconfig }), {
    userAgent: 'nodeqos-agent',
  });
  const netQos = options.networkQos
    ? new NetQos({ dev: await networkInterface(options), logger })
    : undefined;
  const agent = await NodeAgent.create({ ...agentOptions(options, nodeName, registry), netQos });
  const runtime = new AgentRuntime({
    agent,
    cache: new PlanCache(stateDir),
    logger,
    registry,
    samplerFor: createSamplerSelector({ procRoot: options.procRoot, fixedPressure: options.pressure }),
    kube: {
      planSource: agentPlanSource(http, nodeName),
      podSource: podSource(http, nodeName),
      writeStatus: planStatusWriter(http, nodeName),
    },
    eviction: { client: http, procRoot: options.procRoot },
    resyncMs: options.resyncMs,
    cgroupWatch: { hierarchies: watchedHierarchies(layoutFor(agent.mode)), driver: agent.mode.driver },
  });
  await runtime.start();
  const metrics = await startMetricsServer({
    registries: [registry],
    port: options.metricsPort,
    ready: () => runtime.ready,
    healthy: () => runtime.health(),
  });
  logger.info({ node: nodeName, metricsPort: metrics.port, layout: agent.mode }, 'agent started');
  await new Promise<void>(resolve => {
    const shutdown = (signal: string): void => {
      logger.info({ signal }, 'shutting down: finishing the write in flight');
      void runtime
        .stop()
        .then(() => metrics.close())
        .then(resolve);
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  return 0;
}
