// nodeqos agent: enforce this node's NodeIsolationPlan in the cluster (`--once` is agent-once.ts).
import { Registry } from 'prom-client';
import { NodeAgent } from '../../agent/apply-plan.ts';
import { NetQos } from '../../agent/net/net-qos.ts';
import { defaultRouteInterface } from '../../agent/discovery/default-route.ts';
import { nodeFs } from '../../agent/fs.ts';
import { AgentRuntime } from '../../agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../agent/suppress/samplers/select.ts';
import { KubeHttp } from '../../kube/http.ts';
import { loadKubeConfig } from '../../kube/kubeconfig.ts';
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
  const http = new KubeHttp(loadKubeConfig(options.kubeconfig));
  const agent = await NodeAgent.create(agentOptions(options, nodeName, registry));
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
    resyncMs: options.resyncMs,
    procRoot: options.procRoot,
    ...(options.networkQos ? { netQos: new NetQos({ dev: await networkInterface(options), logger }) } : {}),
  });
  await runtime.start();
  const metrics = await startMetricsServer([registry], options.metricsPort, () => runtime.ready);
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
