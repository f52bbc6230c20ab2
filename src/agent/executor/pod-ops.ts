// A pod's knobs turned into ordered writes, one group per controller. Reads happen here; writes in session.commit.
import type { CpuMax } from './codecs.ts';
import type { Knob, V1Knobs, V2Knobs } from './knobs.ts';
import { cfsQuotaRule, clampToParent, cpuMaxRule, cpusetRule, type LevelNode } from './leveled.ts';
import type { PodDesired } from './pod-desired.ts';
import { podDirKey } from '../restore/original-values.ts';
import type { CgroupSession, WriteOp } from './session.ts';

/** The desired value of a file, checked against the codec's shape (records come from disk). */
export function wanted<T>(
  session: CgroupSession,
  knob: Knob<T>,
  value: unknown,
  container: string | null,
): T | undefined {
  if (value === undefined) return undefined;
  const parsed = knob.codec.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  session.fail(
    container === null ? { knob: knob.file } : { knob: knob.file, container },
    'ERANGE',
    `refused: ${knob.file} value ${JSON.stringify(value).slice(0, 80)} is malformed`,
  );
  return undefined;
}

function containerWanted<T>(
  session: CgroupSession,
  knob: Knob<T>,
  desired: PodDesired,
  name: string,
): T | undefined {
  return wanted(session, knob, desired.containers.get(name)?.get(knob.file), name);
}

function isFilled(op: WriteOp | undefined): op is WriteOp {
  return op !== undefined;
}

/** v1 cgroups start with empty cpuset.mems; a task or cpus write needs them set: copy the parent's first. */
async function memsFill(
  session: CgroupSession,
  mems: Knob<string>,
  containers: readonly string[],
): Promise<WriteOp[]> {
  const podMems = await session.read(mems, null);
  if (podMems === undefined) return [];
  const ops: WriteOp[] = [];
  let effective = podMems;
  if (podMems === '') {
    const parent = await session.read(mems, null, session.target.parentDirOf('cpuset'));
    if (parent === undefined || parent === '') {
      session.fail({ knob: mems.file }, 'ENOSPC', `the parent's cpuset.mems is empty; cannot fill the pod's`);
      return [];
    }
    const op = session.op(mems, { container: null, current: '', desired: parent, force: false });
    if (op) ops.push(op);
    effective = parent;
  }
  for (const name of containers) {
    const current = await session.read(mems, name);
    const op =
      current === ''
        ? session.op(mems, { container: name, current, desired: effective, force: false })
        : undefined;
    if (op) ops.push(op);
  }
  return ops;
}

/**
 * The pod's cpuset target. A v1 pod recorded with an empty cpuset (created fresh, before the agent filled it) is
 * restored to the parent's CPUs, kubelet's default: writing "" back would leave a cgroup no task can join.
 */
async function podCpusetTarget(
  session: CgroupSession,
  cpus: Knob<string>,
  desired: PodDesired,
): Promise<string | undefined> {
  const target = wanted(session, cpus, desired.pod.get(cpus.file), null);
  if (desired.mode !== 'restore' || target !== '' || cpus.codec.invalid('') === undefined) return target;
  return session.read(cpus, null, session.target.parentDirOf('cpuset'));
}

/** Containers take the pod's cpuset (apply) or their recorded one, else the pod's (restore). */
async function cpusetChildren(
  session: CgroupSession,
  cpus: Knob<string>,
  desired: PodDesired,
  pod: { readonly containers: readonly string[]; readonly podCpus: string },
): Promise<LevelNode<string>[]> {
  const children: LevelNode<string>[] = [];
  for (const name of pod.containers) {
    const current = await session.read(cpus, name);
    const recorded = desired.mode === 'apply' ? undefined : containerWanted(session, cpus, desired, name);
    // A v1 container recorded empty (fresh) follows the pod: an empty v1 cpuset cannot hold tasks.
    const target =
      recorded === undefined || cpus.codec.invalid(recorded) !== undefined ? pod.podCpus : recorded;
    if (current === undefined) continue;
    const force = cpus.codec.equal(current, target) && session.forceDue(cpus, name);
    children.push({ id: name, current, desired: target, force });
  }
  return children;
}

export async function cpusetOps(
  session: CgroupSession,
  cpus: Knob<string>,
  mems: Knob<string> | undefined,
  desired: PodDesired,
): Promise<WriteOp[]> {
  const podCpus = await podCpusetTarget(session, cpus, desired);
  if (podCpus === undefined) return [];
  // A plan always names CPUs; only a v2 restore may put back "" (inherit the parent's).
  const invalid =
    desired.mode === 'apply' && podCpus === '' ? 'cpu list is empty' : cpus.codec.invalid(podCpus);
  if (invalid !== undefined) {
    session.fail({ knob: cpus.file }, 'ERANGE', `refused: ${invalid}`);
    return [];
  }
  const podCurrent = await session.read(cpus, null);
  if (podCurrent === undefined) return [];
  const containers = await session.containers('cpuset');
  const memsOps = mems ? await memsFill(session, mems, containers) : [];
  const children = await cpusetChildren(session, cpus, desired, { containers, podCpus });
  const podNode = {
    id: podDirKey,
    current: podCurrent,
    desired: podCpus,
    force: cpus.codec.equal(podCurrent, podCpus) && session.forceDue(cpus, null),
  };
  return [...memsOps, ...session.leveled(cpus, [[podNode], children], cpusetRule, value => value)];
}

interface QuotaPlan {
  readonly podCurrent: CpuMax;
  readonly podDesired: CpuMax;
  readonly children: LevelNode<CpuMax>[];
}

/** Container quotas on v1: apply caps each container's own (original) limit at the pod's; restore puts records back. */
async function v1ContainerQuotas(
  session: CgroupSession,
  knobs: V1Knobs,
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
      const recorded = session.deps.store.get(session.target.identity.uid, name, knobs.quota.file);
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
  session: CgroupSession,
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
  session: CgroupSession,
  knobs: V1Knobs,
  desired: PodDesired,
): Promise<WriteOp[]> {
  const sharesOp = await session.simple(
    knobs.shares,
    null,
    wanted(session, knobs.shares, desired.pod.get(knobs.shares.file), null),
  );
  const quotaUs = wanted(session, knobs.quota, desired.pod.get(knobs.quota.file), null);
  const periodUs = wanted(session, knobs.period, desired.pod.get(knobs.period.file), null);
  const burst = await burstOp(
    session,
    knobs.burst,
    wanted(session, knobs.burst, desired.pod.get(knobs.burst.file), null),
    quotaUs,
  );
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
  session: CgroupSession,
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
  session: CgroupSession,
  knobs: V1Knobs,
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
  session: CgroupSession,
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
  session: CgroupSession,
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
  session: CgroupSession,
  knobs: V2Knobs,
  desired: PodDesired,
): Promise<WriteOp[]> {
  const weight = wanted(session, knobs.weight, desired.pod.get(knobs.weight.file), null);
  const weightOp = await session.simple(knobs.weight, null, weight);
  const cpuMax = wanted(session, knobs.cpuMax, desired.pod.get(knobs.cpuMax.file), null);
  const burstWanted = wanted(session, knobs.burst, desired.pod.get(knobs.burst.file), null);
  const burst = await burstOp(session, knobs.burst, burstWanted, cpuMax?.quotaUs);
  const quotaOps = await v2QuotaOps(session, knobs.cpuMax, desired, cpuMax);
  return [weightOp, ...withBurst(burst.op, burst.down, quotaOps)].filter(isFilled);
}

/**
 * net_cls.classid on the pod's directory in the net_cls hierarchy. A pod that started before that hierarchy was
 * mounted has no directory there: reported as unsupported for the pod, never taken for a vanished pod.
 */
export async function netClassidOps(
  session: CgroupSession,
  knob: Knob<number> | undefined,
  desired: PodDesired,
): Promise<WriteOp[]> {
  if (knob === undefined || !desired.pod.has(knob.file)) return [];
  const dir = session.dir(knob.controller, null);
  if (!(await session.deps.fs.exists(dir))) {
    session.unsupported(knob.file, `the pod has no cgroup in the net_cls hierarchy (${dir})`);
    return [];
  }
  const op = await session.simple(knob, null, wanted(session, knob, desired.pod.get(knob.file), null));
  return op ? [op] : [];
}

/** Plain pod-level knobs (memory, blkio weight, throttles): one read, one compare, at most one write each. */
export async function plainOps(
  session: CgroupSession,
  knobs: readonly Knob<unknown>[],
  desired: PodDesired,
): Promise<WriteOp[]> {
  const ops: WriteOp[] = [];
  for (const knob of knobs) {
    if (!desired.pod.has(knob.file)) continue;
    const op = await session.simple(knob, null, wanted(session, knob, desired.pod.get(knob.file), null));
    if (op) ops.push(op);
  }
  return ops;
}
