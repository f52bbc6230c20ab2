// The cpu controller's ordered writes for one pod: weight, quota (pod and containers as two levels) and burst, in
// the order the kernel accepts them (burst <= quota at every moment; on v1 a child's quota within its parent's).
import type { CpuMax } from '../core/codecs.ts';
import { containerWanted, isFilled, podWanted, type PodDesired } from '../core/desired.ts';
import type { Knob } from '../core/knob.ts';
import { cfsQuotaRule, clampToParent, cpuMaxRule, type LevelNode } from '../core/leveled.ts';
import type { MechanismSession, WriteOp } from '../core/session.ts';
import { podDirKey } from '../../restore/original-values.ts';
import type { V1CpuKnobs, V2CpuKnobs } from './knobs.ts';

interface QuotaPlan {
  readonly podCurrent: CpuMax;
  readonly podDesired: CpuMax;
  readonly children: LevelNode<CpuMax>[];
}

/** Container quotas on v1: apply caps each container's own (original) limit at the pod's; restore puts records back. */
async function v1ContainerQuotas(
  session: MechanismSession,
  knobs: V1CpuKnobs,
  desired: PodDesired,
  podDesired: CpuMax,
): Promise<LevelNode<CpuMax>[]> {
  const nodes: LevelNode<CpuMax>[] = [];
  for (const name of await session.containers('cpu')) {
    const quotaUs = await session.read(knobs.quota, name);
    const periodUs = await session.read(knobs.period, name);
    if (quotaUs === undefined || periodUs === undefined) continue;
    const current = { quotaUs, periodUs };
    let target: CpuMax | undefined;
    if (desired.mode === 'apply') {
      const recorded = session.recorded(name, knobs.quota.file);
      const own = typeof recorded === 'number' ? recorded : quotaUs;
      target = clampToParent({ quotaUs: own, periodUs }, podDesired);
    } else {
      const recorded = containerWanted(session, knobs.quota, desired, name);
      target = recorded === undefined ? undefined : { quotaUs: recorded, periodUs };
    }
    if (target === undefined) continue;
    nodes.push({
      id: name,
      current,
      desired: target,
      force: target.quotaUs === quotaUs && session.forceDue(knobs.quota, name),
    });
  }
  return nodes;
}

/** burst <= quota at every moment: lower burst before the quota changes, raise it after. */
function withBurst(
  burstOp: WriteOp | undefined,
  burstDown: boolean,
  quotaOps: readonly WriteOp[],
  periodOp?: WriteOp,
): WriteOp[] {
  const ops = [...quotaOps, periodOp].filter(isFilled);
  if (!burstOp) return ops;
  if (burstDown) return [burstOp, ...ops];
  // Raised after the pod's quota, and only once that write succeeded: above the old quota it is EINVAL.
  return [...ops, { ...burstOp, requires: quotaOps.filter(op => op.container === null) }];
}

async function burstOp(
  session: MechanismSession,
  burst: Knob<number>,
  desiredBurst: number | undefined,
  quotaUs: number | undefined,
): Promise<{ op?: WriteOp; down: boolean }> {
  if (desiredBurst === undefined) return { down: false };
  if (
    quotaUs !== undefined &&
    ((quotaUs === -1 && desiredBurst > 0) || (quotaUs !== -1 && desiredBurst > quotaUs))
  ) {
    session.fail(
      { knob: burst.file },
      'ERANGE',
      `refused: burst ${desiredBurst} us exceeds the quota ${quotaUs === -1 ? 'max' : quotaUs}`,
    );
    return { down: false };
  }
  const current = await session.read(burst, null);
  if (current === undefined) return { down: false };
  const op = session.op(burst, { container: null, current, desired: desiredBurst });
  return op ? { op, down: desiredBurst < current } : { down: false };
}

export async function v1CpuOps(
  session: MechanismSession,
  knobs: V1CpuKnobs,
  desired: PodDesired,
): Promise<WriteOp[]> {
  const sharesOp = await session.simple(knobs.shares, null, podWanted(session, knobs.shares, desired));
  const quotaUs = podWanted(session, knobs.quota, desired);
  const periodUs = podWanted(session, knobs.period, desired);
  const burst = await burstOp(session, knobs.burst, podWanted(session, knobs.burst, desired), quotaUs);
  const quota = await v1QuotaPlan(session, knobs, desired, { quotaUs, periodUs });
  const quotaOps = quota
    ? session.leveled(
        knobs.quota,
        [[podNode(session, knobs.quota, quota)], quota.children],
        cfsQuotaRule,
        v => v.quotaUs,
      )
    : [];
  // The period follows the quota: a period change against the old quota can break the parent/child ratio.
  const periodOp =
    periodUs === undefined || !quota
      ? undefined
      : session.op(knobs.period, { container: null, current: quota.podCurrent.periodUs, desired: periodUs });
  return [sharesOp, ...withBurst(burst.op, burst.down, quotaOps, periodOp)].filter(isFilled);
}

function podNode(
  session: MechanismSession,
  knob: Knob<number> | Knob<CpuMax>,
  plan: QuotaPlan,
): LevelNode<CpuMax> {
  const same =
    plan.podCurrent.quotaUs === plan.podDesired.quotaUs &&
    plan.podCurrent.periodUs === plan.podDesired.periodUs;
  return {
    id: podDirKey,
    current: plan.podCurrent,
    desired: plan.podDesired,
    force: same && session.forceDue(knob, null),
  };
}

async function v1QuotaPlan(
  session: MechanismSession,
  knobs: V1CpuKnobs,
  desired: PodDesired,
  want: { quotaUs: number | undefined; periodUs: number | undefined },
): Promise<QuotaPlan | undefined> {
  if (want.quotaUs === undefined) return undefined;
  if (knobs.quota.codec.invalid(want.quotaUs) !== undefined) {
    session.fail(
      { knob: knobs.quota.file },
      'ERANGE',
      `refused: ${knobs.quota.codec.invalid(want.quotaUs) ?? ''}`,
    );
    return undefined;
  }
  const quotaUs = await session.read(knobs.quota, null);
  const periodUs = await session.read(knobs.period, null);
  if (quotaUs === undefined || periodUs === undefined) return undefined;
  const podDesired = { quotaUs: want.quotaUs, periodUs: want.periodUs ?? periodUs };
  // The period is written after the quotas, so a container must fit the pod under the old and the new period.
  const strictest = { quotaUs: podDesired.quotaUs, periodUs: Math.max(periodUs, podDesired.periodUs) };
  const children = await v1ContainerQuotas(session, knobs, desired, strictest);
  return { podCurrent: { quotaUs, periodUs }, podDesired, children };
}

/** v2 takes min(child, parent) itself, so containers keep their own cpu.max; a restore still puts records back. */
async function v2ContainerQuotas(
  session: MechanismSession,
  knob: Knob<CpuMax>,
  desired: PodDesired,
): Promise<LevelNode<CpuMax>[]> {
  const children: LevelNode<CpuMax>[] = [];
  for (const name of desired.mode === 'restore' ? await session.containers('cpu') : []) {
    const target = containerWanted(session, knob, desired, name);
    const own = target === undefined ? undefined : await session.read(knob, name);
    if (target !== undefined && own !== undefined)
      children.push({ id: name, current: own, desired: target, force: false });
  }
  return children;
}

async function v2QuotaOps(
  session: MechanismSession,
  knob: Knob<CpuMax>,
  desired: PodDesired,
  cpuMax: CpuMax | undefined,
): Promise<WriteOp[]> {
  if (cpuMax === undefined) return [];
  const invalid = knob.codec.invalid(cpuMax);
  if (invalid !== undefined) {
    session.fail({ knob: knob.file }, 'ERANGE', `refused: ${invalid}`);
    return [];
  }
  const current = await session.read(knob, null);
  if (current === undefined) return [];
  const children = await v2ContainerQuotas(session, knob, desired);
  const pod = podNode(session, knob, { podCurrent: current, podDesired: cpuMax, children });
  return session.leveled(knob, [[pod], children], cpuMaxRule, value => value);
}

export async function v2CpuOps(
  session: MechanismSession,
  knobs: V2CpuKnobs,
  desired: PodDesired,
): Promise<WriteOp[]> {
  const weight = podWanted(session, knobs.weight, desired);
  const weightOp = await session.simple(knobs.weight, null, weight);
  const cpuMax = podWanted(session, knobs.cpuMax, desired);
  const burstWanted = podWanted(session, knobs.burst, desired);
  const burst = await burstOp(session, knobs.burst, burstWanted, cpuMax?.quotaUs);
  const quotaOps = await v2QuotaOps(session, knobs.cpuMax, desired, cpuMax);
  return [weightOp, ...withBurst(burst.op, burst.down, quotaOps)].filter(isFilled);
}
