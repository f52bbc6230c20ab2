// cpu.idle (SCHED_IDLE for a whole cgroup, kernel 5.15+, cgroup v1 and v2) on the kubepods besteffort directory:
// the plan's spec.cpuSuppress.beIdle. While cpu.idle is 1 the kernel pins the group's weight at its minimum
// (v1 cpu.shares reads 3) and refuses writes to it (EINVAL); clearing it resets the weight to the default (1024 /
// 100), not to the value before. So the originals of both cpu.idle and the weight are saved before the first
// write, and a restore writes cpu.idle back first and the saved weight second (two batches: the weight is read
// again after cpu.idle is written).
import type { TierOriginals, TierPass, TierPlan } from '../core/mechanism.ts';
import { OwnerVanishedError, type MechanismSession } from '../core/session.ts';
import { weightKnob, type CpuKnobs } from './knobs.ts';

/**
 * Puts cpu.idle on the tier directory (`tier` is a session on it) to 1 when wanted, or back to its original when
 * not and the agent changed it. Nothing is read or written when it is not wanted and was never changed. The
 * session's report holds what happened (unsupported when the kernel has no cpu.idle).
 */
export async function* tierIdlePass(
  tier: MechanismSession,
  knobs: CpuKnobs,
  originals: TierOriginals,
  plan: TierPlan,
): TierPass {
  try {
    return yield* idlePass(tier, knobs, originals, plan.idle);
  } catch (error) {
    if (!(error instanceof OwnerVanishedError)) throw error;
    tier.fail({ knob: knobs.idle.file }, 'ENOENT', `the besteffort cgroup does not exist: ${error.message}`);
    return 'kept';
  }
}

async function* idlePass(
  tier: MechanismSession,
  knobs: CpuKnobs,
  originals: TierOriginals,
  wanted: boolean,
): TierPass {
  const idle = knobs.idle;
  const changedByUs = originals.get(idle.file) !== undefined;
  if (!wanted && !changedByUs) return 'kept';
  const current = await tier.read(idle, null);
  if (current === undefined) return 'kept';
  if (!wanted) return yield* restoreIdle(tier, knobs, originals, current);
  if (!changedByUs) {
    const weight = await tier.read(weightKnob(knobs), null);
    if (weight === undefined) return 'kept';
    originals.recordIfAbsent(idle.file, current);
    originals.recordIfAbsent(weightKnob(knobs).file, weight);
  }
  const op = tier.op(idle, { container: null, current, desired: 1 });
  if (op) yield [op];
  return 'kept';
}

async function* restoreIdle(
  tier: MechanismSession,
  knobs: CpuKnobs,
  originals: TierOriginals,
  current: number,
): TierPass {
  const idle = knobs.idle;
  const weightFile = weightKnob(knobs);
  const originalIdle = idle.codec.schema.safeParse(originals.get(idle.file));
  const originalWeight = weightFile.codec.schema.safeParse(originals.get(weightFile.file));
  if (!originalIdle.success) {
    tier.fail({ knob: idle.file }, 'EPARSE', 'the saved original cpu.idle is not a number');
    return 'kept';
  }
  const failedBefore = tier.report.failed.length;
  const idleOp = tier.op(idle, { container: null, current, desired: originalIdle.data });
  if (idleOp) yield [idleOp];
  // Still idle (originally idle, or the write failed): the kernel would refuse the weight.
  if (originalIdle.data === 0 && originalWeight.success && tier.report.failed.length === failedBefore) {
    const weight = await tier.read(weightFile, null);
    const weightOp =
      weight === undefined
        ? undefined
        : tier.op(weightFile, { container: null, current: weight, desired: originalWeight.data });
    if (weightOp) yield [weightOp];
  }
  return tier.report.failed.length === failedBefore ? 'restored' : 'kept';
}
