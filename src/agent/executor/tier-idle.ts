// cpu.idle (SCHED_IDLE for a whole cgroup, kernel 5.15+, cgroup v1 and v2) on the kubepods besteffort directory:
// the plan's spec.cpuSuppress.beIdle. While cpu.idle is 1 the kernel pins the group's weight at its minimum
// (v1 cpu.shares reads 3) and refuses writes to it (EINVAL); clearing it resets the weight to the default (1024 /
// 100), not to the value before. So the originals of both cpu.idle and the weight are saved before the first
// write, and a restore writes cpu.idle back first and the saved weight second.
import { errnoOf, messageOf } from '../fs.ts';
import type { OriginalValues } from '../restore/original-values.ts';
import type { Knob, Knobs } from './knobs.ts';
import type { CgroupSession } from './session.ts';

function weightKnob(knobs: Knobs): Knob<number> {
  return knobs.version === 'v1' ? knobs.shares : knobs.weight;
}

/**
 * Puts cpu.idle on the tier directory (`tier` is a session on it) to 1 when `wanted`, or back to its original when
 * not and the agent changed it. Nothing is read or written when it is not wanted and was never changed. The
 * session's report holds what happened (unsupported when the kernel has no cpu.idle).
 */
/** kubelet's values for the besteffort directory: not idle, cpu.shares 2 (v2: cpu.weight 1, its conversion of 2). */
function kubeletTier(knobs: Knobs): Originals {
  return { idle: 0, weight: knobs.version === 'v1' ? 2 : 1 };
}

interface Originals {
  readonly idle: number;
  readonly weight: number | undefined;
}

/**
 * Puts cpu.idle on the tier directory (`tier` is a session on it) to 1 when `wanted`, or back to its original when
 * not and the agent changed it. Nothing is read or written when it is not wanted and was never changed. With an
 * unusable original-values file (store.loadProblem) an idle tier that nobody asks for gets kubelet's values, and
 * an idle tier found before the first write is not taken for the original (it may be a previous agent's write),
 * as pods get kubelet defaults then. The session's report holds what happened (unsupported without cpu.idle).
 */
export async function applyTierIdle(
  tier: CgroupSession,
  knobs: Knobs,
  store: OriginalValues,
  wanted: boolean,
): Promise<void> {
  const idle = knobs.idle;
  const changedByUs = store.tierOriginal(idle.file) !== undefined;
  if (!wanted && !changedByUs && !(await lostIdleTier(tier, knobs, store))) return;
  const current = await tier.read(idle, null);
  if (current === undefined) return;
  if (!wanted) {
    if (changedByUs)
      await restoreTierIdle(tier, knobs, store, { current, originals: savedOriginals(knobs, store) });
    else if (current === 1)
      await restoreTierIdle(tier, knobs, store, { current, originals: kubeletTier(knobs) });
    return;
  }
  if (!changedByUs && !(await recordOriginals(tier, knobs, store, current))) return;
  const op = tier.op(idle, { container: null, current, desired: 1 });
  if (op) await commitTier(tier, store, [op]);
}

/** The store is unusable and the kernel has cpu.idle: an idle tier may be a previous agent's, check it. */
async function lostIdleTier(tier: CgroupSession, knobs: Knobs, store: OriginalValues): Promise<boolean> {
  if (store.loadProblem === undefined) return false;
  return tier.deps.fs.exists(tier.deps.layout.file(tier.dir('cpu', null), knobs.idle.file));
}

/** Saves what the tier holds before the first write; false when its weight cannot be read. */
async function recordOriginals(
  tier: CgroupSession,
  knobs: Knobs,
  store: OriginalValues,
  current: number,
): Promise<boolean> {
  const found =
    store.loadProblem !== undefined && current === 1
      ? kubeletTier(knobs)
      : { idle: current, weight: await tier.read(weightKnob(knobs), null) };
  if (found.weight === undefined) return false;
  store.recordTierIfAbsent(knobs.idle.file, found.idle);
  store.recordTierIfAbsent(weightKnob(knobs).file, found.weight);
  return true;
}

function savedOriginals(knobs: Knobs, store: OriginalValues): Originals | undefined {
  const idle = knobs.idle.codec.schema.safeParse(store.tierOriginal(knobs.idle.file));
  const weight = weightKnob(knobs).codec.schema.safeParse(store.tierOriginal(weightKnob(knobs).file));
  return idle.success ? { idle: idle.data, weight: weight.success ? weight.data : undefined } : undefined;
}

async function restoreTierIdle(
  tier: CgroupSession,
  knobs: Knobs,
  store: OriginalValues,
  { current, originals }: { current: number; originals: Originals | undefined },
): Promise<void> {
  const idle = knobs.idle;
  if (originals === undefined) {
    tier.fail({ knob: idle.file }, 'EPARSE', 'the saved original cpu.idle is not a number');
    return;
  }
  const failedBefore = tier.report.failed.length;
  const idleOp = tier.op(idle, { container: null, current, desired: originals.idle });
  if (idleOp) await commitTier(tier, store, [idleOp]);
  // Still idle (originally idle, or the write failed): the kernel would refuse the weight.
  if (originals.idle === 0 && originals.weight !== undefined && tier.report.failed.length === failedBefore) {
    const weight = await tier.read(weightKnob(knobs), null);
    const weightOp =
      weight === undefined
        ? undefined
        : tier.op(weightKnob(knobs), { container: null, current: weight, desired: originals.weight });
    if (weightOp) await commitTier(tier, store, [weightOp]);
  }
  if (tier.report.failed.length === failedBefore) {
    store.clearTier();
    await store.save();
  }
}

/** Saves the originals first (never a write without them), then writes. */
async function commitTier(
  tier: CgroupSession,
  store: OriginalValues,
  ops: Parameters<CgroupSession['commit']>[0],
): Promise<void> {
  try {
    await store.save();
  } catch (error) {
    for (const op of ops)
      tier.fail(
        { knob: op.file },
        errnoOf(error),
        `original values not saved to ${store.path}: ${messageOf(error)}`,
      );
    return;
  }
  await tier.commit(ops);
}
