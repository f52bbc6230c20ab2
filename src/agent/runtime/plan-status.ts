// The NodeIsolationPlan status the agent reports: what it applied, what failed, what the node cannot do,
// the topology it found, and the suppress loop's pressure and quota.
import type { Condition } from '../../api/meta.ts';
import type { NodeIsolationPlan } from '../../api/plan.ts';
import type { Topology } from '../../api/topology.ts';
import type { PlanApplyReport } from '../apply-plan.ts';
import type { EvictionState } from '../eviction/runner.ts';
import type { SuppressState } from '../suppress/loop.ts';

export type PlanStatus = NonNullable<NodeIsolationPlan['status']>;

export interface StatusInputs {
  readonly generation: number | undefined;
  readonly report: PlanApplyReport;
  readonly topology: Topology | undefined;
  readonly suppress: SuppressState | undefined;
  /** BE eviction's last sample and round; undefined when the agent runs without one. */
  readonly eviction?: EvictionState | undefined;
  readonly extraUnsupported: readonly string[];
  readonly now: string;
  readonly previous: PlanStatus | undefined;
}

type NewCondition = Omit<Condition, 'lastTransitionTime'>;

function conditions(report: PlanApplyReport, generation: number | undefined): NewCondition[] {
  const g = generation === undefined ? {} : { observedGeneration: generation };
  if (report.status === 'refused') {
    const message = [report.reason, ...report.issues].join('; ').slice(0, 4000);
    return [
      { type: 'Applied', status: 'False', reason: 'PlanRefused', message, ...g },
      {
        type: 'Degraded',
        status: 'True',
        reason: 'PlanRefused',
        message: `${message}; previous values kept`,
        ...g,
      },
    ];
  }
  const { applied, failed, backoff, vanished } = report.counts;
  const summary = `${applied} pod(s) applied, ${failed + backoff} failing, ${vanished} vanished`;
  if (report.status === 'degraded') {
    const first = report.podFailures[0];
    const detail = first
      ? `; first: ${first.pod} ${first.knob}: ${first.message}`
      : (report.stateProblem ?? '');
    return [
      { type: 'Applied', status: 'True', reason: 'AppliedWithErrors', message: summary, ...g },
      {
        type: 'Degraded',
        status: 'True',
        reason: 'PodFailures',
        message: `${summary}${detail}`.slice(0, 4000),
        ...g,
      },
    ];
  }
  return [
    { type: 'Applied', status: 'True', reason: 'Applied', message: summary, ...g },
    { type: 'Degraded', status: 'False', reason: 'AllApplied', message: 'every pod applied', ...g },
  ];
}

function withTimes(
  next: readonly NewCondition[],
  previous: PlanStatus | undefined,
  now: string,
): Condition[] {
  return next.map(c => {
    const before = previous?.conditions?.find(p => p.type === c.type);
    return { ...c, lastTransitionTime: before?.status === c.status ? before.lastTransitionTime : now };
  });
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, Math.round(value * 100) / 100));
}

function appliedGeneration(inputs: StatusInputs): { appliedGeneration?: number } {
  if (inputs.report.status !== 'refused' && inputs.generation !== undefined)
    return { appliedGeneration: inputs.generation };
  const previous = inputs.previous?.appliedGeneration;
  return previous === undefined ? {} : { appliedGeneration: previous };
}

function suppressFigures(
  suppress: SuppressState | undefined,
): Pick<PlanStatus, 'pressure' | 'beQuotaUs' | 'suppressRatio'> {
  if (!suppress) return {};
  return {
    ...(suppress.pressure === undefined ? {} : { pressure: clampPercent(suppress.pressure) }),
    ...(suppress.quotaUs === undefined ? {} : { beQuotaUs: suppress.quotaUs }),
    ...(suppress.ratio === undefined ? {} : { suppressRatio: Math.min(1, Math.max(0, suppress.ratio)) }),
  };
}

function evictionFigures(
  eviction: EvictionState | undefined,
  previous: PlanStatus | undefined,
): Pick<PlanStatus, 'memoryWorkingSetPercent' | 'lastEvictionRound'> {
  // The last round outlives an agent restart: it is read back from the status the agent wrote before.
  const lastRound = eviction?.lastRound ?? previous?.lastEvictionRound;
  const percent = eviction?.memory?.percent;
  return {
    ...(percent === undefined
      ? {}
      : { memoryWorkingSetPercent: Math.min(1000, Math.round(percent * 100) / 100) }),
    ...(lastRound === undefined ? {} : { lastEvictionRound: lastRound }),
  };
}

export function planStatus(inputs: StatusInputs): PlanStatus {
  const { report } = inputs;
  const applied = report.status !== 'refused';
  return {
    ...appliedGeneration(inputs),
    conditions: withTimes(conditions(report, inputs.generation), inputs.previous, inputs.now),
    ...(inputs.topology ? { topology: inputs.topology } : {}),
    ...suppressFigures(inputs.suppress),
    podFailures: applied ? report.podFailures : [],
    unsupported: [...(applied ? report.unsupported : []), ...inputs.extraUnsupported].slice(0, 64),
    lastAppliedTime: inputs.now,
    ...evictionFigures(inputs.eviction, inputs.previous),
  };
}
