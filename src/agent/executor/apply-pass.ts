// Applying one plan pod: every mechanism says what it wants and orders its writes; one commit (originals saved
// first) writes them all, then oom_score_adj for the pod's processes; the per-pod gauges follow the report.
import type { PlanPod } from '../../api/plan.ts';
import type { AppliedCheck, AppliedValues } from '../mechanisms/core/applied.ts';
import type { PodDesired } from '../mechanisms/core/desired.ts';
import type { Mechanism, PlanFacts } from '../mechanisms/core/mechanism.ts';
import type { MechanismSession, WriteOp } from '../mechanisms/core/session.ts';
import { emptyPodReport, type PodReport } from '../mechanisms/core/report.ts';
import { guarded, hasFailures, podSession, type PassContext } from './context.ts';
import { applyOomScoreAdj, oomKnob } from './oom-score.ts';
import type { CgroupSession } from './session.ts';
import { podSpecKey } from './settled-pods.ts';

/** What the mechanisms want for a plan pod, merged: values by file, and what the node cannot enforce. */
export async function planDesired(
  mechanisms: readonly Mechanism[],
  pod: PlanPod,
  facts: PlanFacts,
  session: MechanismSession,
): Promise<PodDesired> {
  const values = new Map<string, unknown>();
  const unsupported = [];
  for (const mechanism of mechanisms) {
    const wanted = await mechanism.want(pod, facts, session);
    for (const [file, value] of wanted.values) values.set(file, value);
    unsupported.push(...wanted.unsupported);
  }
  return { mode: 'apply', pod: values, containers: new Map(), unsupported };
}

/** Every mechanism's writes for a pod, in the mechanisms' order: one commit. */
export async function mechanismOps(
  mechanisms: readonly Mechanism[],
  session: MechanismSession,
  desired: PodDesired,
): Promise<WriteOp[]> {
  const ops: WriteOp[] = [];
  for (const mechanism of mechanisms) ops.push(...(await mechanism.ops(session, desired)));
  return ops;
}

/** A pod read and planned, its writes staged (originals recorded in memory), waiting for the pass's one save. */
export interface PreparedPod {
  readonly pod: PlanPod;
  readonly specKey: string;
  readonly session: CgroupSession;
  /** Undefined when preparing ended the pod's pass (vanished, refused path, failure): nothing to write. */
  readonly ops: WriteOp[] | undefined;
}

/** A pod backing off after failures with the same spec: its report, without reading anything. */
export function backoffReport(ctx: PassContext, pod: PlanPod, facts: PlanFacts): PodReport | undefined {
  const retryAt = ctx.backoff.blockedUntil(pod.uid, podSpecKey(pod, facts));
  if (retryAt === undefined) return undefined;
  return { ...emptyPodReport(pod), outcome: 'backoff', retryAt, failed: ctx.backoff.lastFailures(pod.uid) };
}

/** Phase one of a pod's apply: read its knobs, plan the writes in the mechanisms' order, stage their originals. */
export async function preparePod(ctx: PassContext, pod: PlanPod, facts: PlanFacts): Promise<PreparedPod> {
  const session = podSession(ctx, pod, true);
  let ops: WriteOp[] | undefined;
  await guarded(ctx, session, async () => {
    const mechanisms = ctx.mechanisms.all;
    const desired = await planDesired(mechanisms, pod, facts, session);
    for (const unsupported of desired.unsupported) session.unsupported(unsupported.knob, unsupported.reason);
    const planned = await mechanismOps(mechanisms, session, desired);
    session.stage(planned);
    ops = planned;
  });
  return { pod, specKey: podSpecKey(pod, facts), session, ops };
}

/** Phase two, after the pass saved the staged originals: the writes, oom_score_adj, the report and gauges. */
export async function finishPod(
  ctx: PassContext,
  prepared: PreparedPod,
  facts: PlanFacts,
  saveError: unknown,
): Promise<PodReport> {
  const { pod, session, ops } = prepared;
  if (ops !== undefined)
    await guarded(
      ctx,
      session,
      async () => {
        await session.commitStaged(ops, saveError);
        await applyOomScoreAdj(session, {
          procRoot: ctx.options.procRoot,
          valueFor: () => pod.oomScoreAdj,
          recordOriginals: true,
        });
        const listed = new Set<string>();
        for (const controller of ['cpu', 'cpuset', 'memory'] as const)
          for (const name of await session.containers(controller)) listed.add(name);
        if (listed.size > 0) ctx.deps.store.keepContainers(pod.uid, listed);
      },
      false,
    );
  const report = session.report;
  if (report.outcome !== 'vanished') report.outcome = hasFailures(report) ? 'failed' : 'applied';
  if (hasFailures(report)) report.retryAt = ctx.backoff.failed(pod.uid, prepared.specKey, report.failed);
  else ctx.backoff.succeeded(pod.uid);
  if (report.outcome === 'vanished') ctx.metrics.removePod(pod.uid);
  else
    ctx.metrics.setPod(
      pod.uid,
      { qos: pod.qosClass, namespace: pod.namespace, pod: pod.name },
      appliedValues(ctx.mechanisms.all, pod, report, facts),
    );
  return report;
}

/** Whether a pod-level file ended up right (written or already equal). */
function appliedCheck(report: PodReport): AppliedCheck {
  return file =>
    report.written.some(w => w.knob === file && w.container === undefined) ||
    report.skipped.some(s => s.knob === file && s.container === undefined);
}

function appliedValues(
  mechanisms: readonly Mechanism[],
  pod: PlanPod,
  report: PodReport,
  facts: PlanFacts,
): AppliedValues {
  const ok = appliedCheck(report);
  const oomFailed = report.failed.some(f => f.knob === oomKnob);
  let values: AppliedValues = {
    shares: null,
    cfsQuotaUs: null,
    cpusetSize: null,
    memory: { min: null, low: null, high: null, max: null },
    oomScoreAdj: report.oom && !oomFailed ? pod.oomScoreAdj : null,
    blkioWeight: null,
  };
  for (const mechanism of mechanisms) values = { ...values, ...mechanism.applied?.(pod, ok, facts) };
  return values;
}
