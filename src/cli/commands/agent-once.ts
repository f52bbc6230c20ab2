// nodeqos agent --once: apply one plan file to this node's (or a simulated node's) files, print a per-pod report,
// exit 0 (applied) or 1 (degraded, refused); and --restore: put back every original value. No cluster access, so
// nothing of the Kubernetes client is loaded.
import { Registry } from 'prom-client';
import { NodeAgent, type PlanApplyReport } from '../../agent/apply-plan.ts';
import { planSchema, type NodeIsolationPlan } from '../../api/plan.ts';
import { describeProblems, fieldProblems } from '../../api/issues.ts';
import { quotaAt } from '../../plan/suppress.ts';
import { readObjects } from '../files.ts';
import { renderTable } from '../render-plan.ts';
import { UsageError } from '../usage-error.ts';
import { agentOptions, type AgentCommandOptions } from './agent-options.ts';

function readPlanFile(path: string): NodeIsolationPlan {
  const objects = readObjects([path]);
  const item = objects.find(d => d.object.kind === 'NodeIsolationPlan');
  if (!item) throw new UsageError(`${objects[0]?.source ?? path}: no NodeIsolationPlan found`);
  const parsed = planSchema.safeParse(item.object);
  if (!parsed.success)
    throw new UsageError(
      `${item.source}: invalid NodeIsolationPlan:\n${describeProblems(fieldProblems(parsed.error))}`,
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
    agentOptions(options, options.nodeName ?? plan.spec.nodeName, new Registry()),
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

/**
 * --restore: every pod the agent changed gets its original values back, the BE tier is unlimited again (uninstall,
 * or a node leaving nodeqos). Network QoS is not touched here: the running agent (with --network-qos) removes its
 * HTB tree when its plan is deleted.
 */
export async function runAgentRestore(options: AgentCommandOptions): Promise<number> {
  const agent = await NodeAgent.create(
    agentOptions(options, options.nodeName ?? process.env.NODE_NAME ?? 'restore', new Registry()),
  );
  const report = await agent.deletePlan();
  console.log(renderReport(report));
  const tierOk = report.tier?.tier.failed.length === 0;
  console.log(`BE tier quota: ${tierOk ? 'unlimited' : 'NOT lifted'}`);
  return report.status === 'applied' && tierOk ? 0 : 1;
}
