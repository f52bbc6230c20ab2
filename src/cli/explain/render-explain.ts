// `kubectl nodeqos <node>` / `nodeqos explain <node>`: a node's NodeIsolationPlan next to what its agent reports
// it applied (status), pod by pod. Pure: the caller fetches the plan and passes the clock.
import { evictionSettingsLines, lastEvictionLines } from '../eviction-lines.ts';
import type { Condition } from '../../api/meta.ts';
import type { NodeIsolationPlan, PlanPod } from '../../api/plan.ts';
import { formatBytes } from '../format-bytes.ts';
import { renderTable } from '../render-plan.ts';

export interface ExplainOptions {
  /** The clock for condition ages; explicit so the output is deterministic. */
  readonly now: Date;
  /** Show only this namespace's pods (`-n`); the node-level lines stay. */
  readonly namespace?: string | undefined;
}

type PlanStatus = NonNullable<NodeIsolationPlan['status']>;
type PodFailure = NonNullable<PlanStatus['podFailures']>[number];

/** Where the agent is with this plan: the per-pod AGENT column and the summary line both derive from it. */
type Progress = 'no-status' | 'unknown-generation' | 'pending' | 'current';

function progressOf(plan: NodeIsolationPlan): Progress {
  const applied = plan.status?.appliedGeneration;
  if (plan.status === undefined || applied === undefined) return 'no-status';
  const generation = plan.metadata.generation;
  if (generation === undefined) return 'unknown-generation';
  return applied >= generation ? 'current' : 'pending';
}

function age(since: string, now: Date): string {
  const ms = now.getTime() - Date.parse(since);
  if (!Number.isFinite(ms)) return '?';
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function summaryLine(plan: NodeIsolationPlan): string {
  const generation = plan.metadata.generation;
  const planned = `plan generation ${generation ?? '?'}`;
  const status = plan.status;
  const when = status?.lastAppliedTime === undefined ? '' : ` at ${status.lastAppliedTime}`;
  switch (progressOf(plan)) {
    case 'no-status':
      return `${planned}; the agent has not reported on this node yet`;
    case 'unknown-generation':
      return `${planned}; agent applied generation ${status?.appliedGeneration ?? '?'}${when}`;
    case 'pending':
      return `${planned}; agent applied generation ${status?.appliedGeneration ?? '?'}${when}: not yet this one`;
    case 'current':
      return `${planned}; agent applied it${when}`;
  }
}

function conditionRows(conditions: readonly Condition[], now: Date): string[][] {
  return conditions.map(c => [c.type, c.status, c.reason, age(c.lastTransitionTime, now), c.message]);
}

function quotaText(us: number): string {
  return us < 0 ? 'unlimited' : `${us} us`;
}

function suppressLine(plan: NodeIsolationPlan): string {
  const sup = plan.spec.cpuSuppress;
  const range = `${sup.floorQuotaUs}..${sup.ceilingQuotaUs} us per ${sup.cfsPeriodUs} us`;
  if (!sup.enabled) return `BE suppress: off (plan range ${range})`;
  const status = plan.status;
  const measured = [
    status?.pressure === undefined ? 'pressure ?' : `pressure ${status.pressure.toFixed(1)}%`,
    status?.suppressRatio === undefined ? 'ratio ?' : `ratio ${status.suppressRatio.toFixed(2)}`,
    status?.beQuotaUs === undefined ? 'BE quota ?' : `BE quota ${quotaText(status.beQuotaUs)}`,
  ];
  const belowFloor =
    status?.beQuotaUs !== undefined && status.beQuotaUs >= 0 && status.beQuotaUs < sup.floorQuotaUs;
  const warning = belowFloor ? '  (below the plan floor!)' : '';
  return `BE suppress (${sup.pressureSource}, every ${sup.intervalMs} ms): ${measured.join(', ')}; plan range ${range}${warning}`;
}

function podKey(pod: PlanPod): string {
  return `${pod.namespace}/${pod.name}`;
}

function failuresByPod(failures: readonly PodFailure[]): Map<string, PodFailure[]> {
  const byPod = new Map<string, PodFailure[]>();
  for (const failure of failures) byPod.set(failure.pod, [...(byPod.get(failure.pod) ?? []), failure]);
  return byPod;
}

function agentColumn(progress: Progress, failures: readonly PodFailure[] | undefined): string {
  if (failures !== undefined && failures.length > 0) {
    return `FAILED ${failures.map(f => f.knob).join(',')}`;
  }
  switch (progress) {
    case 'current':
      return 'applied';
    case 'pending':
      return 'pending';
    case 'no-status':
    case 'unknown-generation':
      return 'unknown';
  }
}

function cpusetText(pod: PlanPod): string {
  return pod.cpu.pinned === 'shared' ? pod.cpu.cpuset : `${pod.cpu.cpuset} (${pod.cpu.pinned})`;
}

function podRows(plan: NodeIsolationPlan, byPod: ReadonlyMap<string, PodFailure[]>): string[][] {
  const progress = progressOf(plan);
  const header = ['POD', 'CLASS', 'SHARES', 'QUOTA', 'CPUSET', 'MEM-MIN', 'MEM-LOW', 'MEM-HIGH', 'MEM-MAX'];
  const rows = [...plan.spec.pods]
    .sort((a, b) => podKey(a).localeCompare(podKey(b)))
    .map(p => [
      podKey(p),
      p.qosClass,
      String(p.cpu.shares),
      p.cpu.cfsQuotaUs < 0 ? 'unlimited' : String(p.cpu.cfsQuotaUs),
      cpusetText(p),
      formatBytes(p.memory.minBytes, '0'),
      formatBytes(p.memory.lowBytes, '0'),
      formatBytes(p.memory.highBytes),
      formatBytes(p.memory.maxBytes),
      String(p.oomScoreAdj),
      String(p.blkio.weight),
      String(p.net.priority),
      agentColumn(progress, byPod.get(podKey(p))),
    ]);
  return [[...header, 'OOM', 'BLKIO', 'NET-PRIO', 'AGENT'], ...rows];
}

function failureLines(plan: NodeIsolationPlan, byPod: ReadonlyMap<string, PodFailure[]>): string[] {
  const planned = new Set(plan.spec.pods.map(podKey));
  const lines: string[] = [];
  for (const [pod, failures] of [...byPod].sort(([a], [b]) => a.localeCompare(b))) {
    const note = planned.has(pod) ? '' : ' (not in this plan)';
    for (const f of failures) lines.push(`  ${pod}${note}  ${f.knob}: ${f.message}`);
  }
  return lines;
}

function section(title: string, lines: readonly string[]): string[] {
  return lines.length === 0 ? [] : ['', title, ...lines];
}

/** The plan with only one namespace's pods, failures and pod warnings. */
function inNamespace(plan: NodeIsolationPlan, namespace: string): NodeIsolationPlan {
  const prefix = `${namespace}/`;
  const status = plan.status;
  return {
    ...plan,
    spec: {
      ...plan.spec,
      pods: plan.spec.pods.filter(p => p.namespace === namespace),
      warnings: plan.spec.warnings.filter(w => w.pod === undefined || w.pod.startsWith(prefix)),
    },
    ...(status === undefined
      ? {}
      : { status: { ...status, podFailures: status.podFailures?.filter(f => f.pod.startsWith(prefix)) } }),
  };
}

function headerLine(
  plan: NodeIsolationPlan,
  whole: NodeIsolationPlan,
  namespace: string | undefined,
): string {
  const spec = plan.spec;
  const policy = `policy ${spec.policyName}${spec.policyGeneration === undefined ? '' : ` (generation ${spec.policyGeneration})`}`;
  const scope = namespace === undefined ? '' : ` in namespace ${namespace} (of ${whole.spec.pods.length})`;
  return `node ${spec.nodeName}   ${policy}   pods ${spec.pods.length}${scope}`;
}

/** The whole report: header, conditions, BE suppress state, unsupported knobs, the pod table, failures, warnings. */
export function renderExplain(whole: NodeIsolationPlan, options: ExplainOptions): string {
  const plan = options.namespace === undefined ? whole : inNamespace(whole, options.namespace);
  const spec = plan.spec;
  const status = plan.status;
  const byPod = failuresByPod(status?.podFailures ?? []);
  const conditions = status?.conditions ?? [];
  const unsupported = status?.unsupported ?? [];
  return [
    headerLine(plan, whole, options.namespace),
    summaryLine(plan),
    `pools: LS ${spec.pools.ls || '(empty)'}   BE ${spec.pools.be || '(empty)'}`,
    suppressLine(plan),
    ...evictionSettingsLines(plan),
    ...lastEvictionLines(plan),
    ...section(
      'conditions:',
      conditions.length === 0
        ? []
        : renderTable([
            ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
            ...conditionRows(conditions, options.now),
          ])
            .split('\n')
            .map(l => `  ${l}`),
    ),
    ...section(
      'not enforceable on this node:',
      unsupported.map(u => `  ${u}`),
    ),
    '',
    renderTable(podRows(plan, byPod)),
    ...section('failures reported by the agent:', failureLines(plan, byPod)),
    ...section(
      'plan warnings:',
      spec.warnings.map(w => `  ${w.pod === undefined ? '' : `${w.pod}: `}${w.message}`),
    ),
  ].join('\n');
}
