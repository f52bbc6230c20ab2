// nodeqos agent: enforce this node's NodeIsolationPlan (in-cluster), or apply one plan file and exit (--once).
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { NodeAgent, type NodeAgentOptions, type PlanApplyReport } from '../../agent/apply-plan.ts';
import type { CgroupDriver } from '../../agent/cgroup/layout.ts';
import type { HierarchyKind } from '../../agent/discovery/mountinfo.ts';
import { NetQos } from '../../agent/executor/net-qos.ts';
import { layoutFor } from '../../agent/discovery/cgroup-mode.ts';
import { defaultRouteInterface } from '../../agent/discovery/default-route.ts';
import { watchedHierarchies } from '../../agent/watch/hierarchies.ts';
import { nodeFs } from '../../agent/fs.ts';
import { AgentRuntime } from '../../agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../agent/suppress/samplers/select.ts';
import { parseDocuments } from '../../api/documents.ts';
import { planSchema, type NodeIsolationPlan } from '../../api/plan.ts';
import { describeProblems, fieldProblems } from '../../api/issues.ts';
import { LiteKubeClient } from '../../kube/lite/client.ts';
import { loadConnection } from '../../kube/lite/config.ts';
import { agentPlanSource, podSource } from '../../kube/sources.ts';
import { createLogger, type LogLevel } from '../../observability/logger.ts';
import { startMetricsServer } from '../../observability/metrics-server.ts';
import { quotaAt } from '../../plan/suppress.ts';
import { renderTable } from '../render-plan.ts';
import { UsageError } from '../usage-error.ts';

export interface AgentCommandOptions {
  nodeName?: string;
  kubeconfig?: string;
  cgroupRoot: string;
  procRoot: string;
  sysRoot: string;
  cgroupVersion: 'auto' | HierarchyKind;
  cgroupDriver: 'auto' | CgroupDriver;
  kubepods?: string;
  stateDir: string;
  metricsPort: number;
  networkQos: boolean;
  interface?: string;
  resyncMs: number;
  forceRewriteMs: number;
  once: boolean;
  restore: boolean;
  plan?: string;
  pressure?: number;
  logLevel: LogLevel;
}

function agentOptions(
  options: AgentCommandOptions,
  nodeName: string,
  registry: Registry,
  level: LogLevel,
): NodeAgentOptions {
  return {
    nodeName,
    stateDir: options.stateDir,
    cgroupRoot: options.cgroupRoot,
    procRoot: options.procRoot,
    sysRoot: options.sysRoot,
    hierarchy: options.cgroupVersion === 'auto' ? undefined : options.cgroupVersion,
    driver: options.cgroupDriver === 'auto' ? undefined : options.cgroupDriver,
    kubepodsDir: options.kubepods,
    registry,
    forceRewriteIntervalMs: options.forceRewriteMs,
    logger: createLogger('nodeqos-agent', level),
  };
}

function readPlanFile(path: string): NodeIsolationPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const item = parseDocuments(text, path).find(d => d.object.kind === 'NodeIsolationPlan');
  if (!item) throw new UsageError(`${path}: no NodeIsolationPlan found`);
  const parsed = planSchema.safeParse(item.object);
  if (!parsed.success)
    throw new UsageError(
      `${path}: invalid NodeIsolationPlan:\n${describeProblems(fieldProblems(parsed.error))}`,
    );
  return parsed.data;
}

function renderReport(report: PlanApplyReport): string {
  if (report.status === 'refused') return [`refused: ${report.reason}`, ...report.issues].join('\n');
  const rows = [
    ['POD', 'OUTCOME', 'WRITTEN', 'UNCHANGED', 'FAILED', 'UNSUPPORTED'],
    ...[...report.pods, ...report.restored].map(p => [
      `${p.namespace}/${p.name}`,
      p.outcome,
      String(p.written.length),
      String(p.skipped.length),
      p.failed.map(f => `${f.knob}:${f.errno}`).join(',') || '-',
      p.unsupported.map(u => u.knob).join(',') || '-',
    ]),
  ];
  return `${renderTable(rows)}\n\nstatus: ${report.status}`;
}

/** --once: apply one plan file to this node's files and exit 0 (applied) or 1 (degraded, refused). */
export async function runAgentOnce(options: AgentCommandOptions): Promise<number> {
  if (options.plan === undefined) throw new UsageError('--once needs --plan <file>');
  const plan = readPlanFile(options.plan);
  const agent = await NodeAgent.create(
    agentOptions(options, options.nodeName ?? plan.spec.nodeName, new Registry(), options.logLevel),
  );
  const report = await agent.applyPlan(plan);
  console.log(renderReport(report));
  if (report.status === 'refused') return 1;
  let tierOk = true;
  // With --pressure the tier gets the curve's quota; a plan with no BE pod has nothing to cap, so an earlier
  // --pressure run's quota is lifted; otherwise the tier is left as it is (the running agent's loop owns it).
  const noBePods = !plan.spec.pods.some(pod => pod.qosClass === 'BE');
  if (options.pressure !== undefined || noBePods) {
    const quota = options.pressure === undefined ? -1 : quotaAt(plan.spec.cpuSuppress, options.pressure);
    const tier = await agent.writeBeTierQuota(quota);
    tierOk = tier.tier.failed.length === 0;
    const why = options.pressure === undefined ? 'no BE pod in the plan' : `pressure ${options.pressure}`;
    const shown = quota === -1 ? 'unlimited' : `${quota} us per ${plan.spec.cpuSuppress.cfsPeriodUs} us`;
    console.log(`BE tier quota (${why}): ${shown}${tierOk ? '' : ' (FAILED)'}`);
  }
  return report.status === 'applied' && tierOk ? 0 : 1;
}

async function networkInterface(options: AgentCommandOptions): Promise<string> {
  const found = options.interface ?? (await defaultRouteInterface(nodeFs, options.procRoot));
  if (found === null) throw new UsageError('--network-qos: no default route found; pass --interface');
  return found;
}

/** --restore: every pod the agent changed gets its original values back (uninstall, or a node leaving nodeqos). */
export async function runAgentRestore(options: AgentCommandOptions): Promise<number> {
  const netQos = options.networkQos ? new NetQos({ dev: await networkInterface(options) }) : undefined;
  const agent = await NodeAgent.create({
    ...agentOptions(
      options,
      options.nodeName ?? process.env.NODE_NAME ?? 'restore',
      new Registry(),
      options.logLevel,
    ),
    netQos,
  });
  const report = await agent.deletePlan();
  console.log(renderReport(report));
  const tierOk = report.tier?.tier.failed.length === 0;
  console.log(`BE tier quota: ${tierOk ? 'unlimited' : 'NOT lifted'}`);
  return report.status === 'applied' && tierOk ? 0 : 1;
}

export async function runAgentCommand(options: AgentCommandOptions): Promise<number> {
  if (options.restore) return runAgentRestore(options);
  if (options.once) return runAgentOnce(options);
  const nodeName = options.nodeName ?? process.env.NODE_NAME;
  if (nodeName === undefined || nodeName === '')
    throw new UsageError('--node-name (or $NODE_NAME) is required');
  const registry = new Registry();
  const logger = createLogger('nodeqos-agent', options.logLevel);
  // The small undici client (src/kube/lite), not client-node: the agent runs on every node (decision 0111).
  const http = new LiteKubeClient(loadConnection({ kubeconfig: options.kubeconfig }), {
    userAgent: 'nodeqos-agent',
  });
  const netQos = options.networkQos
    ? new NetQos({ dev: await networkInterface(options), logger })
    : undefined;
  const agent = await NodeAgent.create({
    ...agentOptions(options, nodeName, registry, options.logLevel),
    netQos,
  });
  const runtime = new AgentRuntime({
    agent,
    cache: new PlanCache(options.stateDir),
    logger,
    registry,
    samplerFor: createSamplerSelector({ procRoot: options.procRoot, fixedPressure: options.pressure }),
    kube: {
      planSource: agentPlanSource(http, nodeName),
      podSource: podSource(http, nodeName),
      writeStatus: planStatusWriter(http, nodeName),
    },
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
