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
export async function applyTierIdle(
  tier: CgroupSession,
  knobs: Knobs,
  store: OriginalValues,
  wanted: boolean,
): Promise<void> {
  const idle = knobs.idle;
  const changedByUs = store.tierOriginal(idle.file) !== undefined;
  if (!wanted && !changedByUs) return;
  const current = await tier.read(idle, null);
  if (current === undefined) return;
  if (wanted) {
    if (!changedByUs) {
      const weight = await tier.read(weightKnob(knobs), null);
      if (weight === undefined) return;
      store.recordTierIfAbsent(idle.file, current);
      store.recordTierIfAbsent(weightKnob(knobs).file, weight);
    }
    const op = tier.op(idle, { container: null, current, desired: 1 });
    if (op) await commitTier(tier, store, [op]);
    return;
  }
  await restoreTierIdle(tier, knobs, store, current);
}

async function restoreTierIdle(
  tier: CgroupSession,
  knobs: Knobs,
  store: OriginalValues,
  current: number,
): Promise<void> {
  const idle = knobs.idle;
  const originalIdle = idle.codec.schema.safeParse(store.tierOriginal(idle.file));
  const originalWeight = weightKnob(knobs).codec.schema.safeParse(store.tierOriginal(weightKnob(knobs).file));
  if (!originalIdle.success) {
    tier.fail({ knob: idle.file }, 'EPARSE', 'the saved original cpu.idle is not a number');
    return;
  }
  const failedBefore = tier.report.failed.length;
  const idleOp = tier.op(idle, { container: null, current, desired: originalIdle.data });
  if (idleOp) await commitTier(tier, store, [idleOp]);
  // Still idle (originally idle, or the write failed): the kernel would refuse the weight.
  if (originalIdle.data === 0 && originalWeight.success && tier.report.failed.length === failedBefore) {
    const weight = await tier.read(weightKnob(knobs), null);
    const weightOp =
      weight === undefined
        ? undefined
        : tier.op(weightKnob(knobs), { container: null, current: weight, desired: originalWeight.data });
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
