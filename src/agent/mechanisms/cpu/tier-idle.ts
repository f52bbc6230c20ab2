// cpu.idle (SCHED_IDLE for a whole cgroup, kernel 5.15+, cgroup v1 and v2) on the kubepods besteffort directory:
// the plan's spec.cpuSuppress.beIdle. While cpu.idle is 1 the kernel pins the group's weight at its minimum
// (v1 cpu.shares reads 3) and refuses writes to it (EINVAL); clearing it resets the weight to the default (1024 /
// 100), not to the value before. So the originals of both cpu.idle and the weight are saved before the first
// write, and a restore writes cpu.idle back first and the saved weight second (two batches: the weight is read
// again after cpu.idle is written).
import type { TierOriginals, TierPass, TierPlan } from '../core/mechanism.ts';
import { OwnerVanishedError, type MechanismSession } from '../core/session.ts';
import { weightKnob, type CpuKnobs } from './knobs.ts';

interface Originals {
  readonly idle: number;
  readonly weight: number | undefined;
}

/** kubelet's values for the besteffort directory: not idle, cpu.shares 2 (v2: cpu.weight 1, its conversion of 2). */
function kubeletTier(knobs: CpuKnobs): Originals {
  return { idle: 0, weight: knobs.version === 'v1' ? 2 : 1 };
}

/**
 * Puts cpu.idle on the tier directory (`tier` is a session on it) to 1 when wanted, or back to its original when
 * not and the agent changed it. Nothing is read or written when it is not wanted and was never changed. With an
 * unusable original-values file (originals.lost) an idle tier that nobody asks for gets kubelet's values, and an
 * idle tier found before the first write is not taken for the original (it may be a previous agent's write), as
 * pods get kubelet defaults then. The session's report holds what happened (unsupported without cpu.idle).
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
  if (!wanted && !changedByUs && !(await lostIdleTier(tier, knobs, originals))) return 'kept';
  const current = await tier.read(idle, null);
  if (current === undefined) return 'kept';
  if (!wanted) {
    if (changedByUs)
      return yield* restoreIdle(tier, knobs, { current, originals: savedOriginals(knobs, originals) });
    if (current === 1) return yield* restoreIdle(tier, knobs, { current, originals: kubeletTier(knobs) });
    return 'kept';
  }
  if (!changedByUs && !(await recordOriginals(tier, knobs, originals, current))) return 'kept';
  const op = tier.op(idle, { container: null, current, desired: 1 });
  if (op) yield [op];
  return 'kept';
}

/** The record is unusable and the kernel has cpu.idle: an idle tier may be a previous agent's, check it. */
async function lostIdleTier(
  tier: MechanismSession,
  knobs: CpuKnobs,
  originals: TierOriginals,
): Promise<boolean> {
  if (!originals.lost) return false;
  return tier.exists(tier.layout.file(tier.dir('cpu', null), knobs.idle.file));
}

/** Saves what the tier holds before the first write; false when its weight cannot be read. */
async function recordOriginals(
  tier: MechanismSession,
  knobs: CpuKnobs,
  originals: TierOriginals,
  current: number,
): Promise<boolean> {
  const found =
    originals.lost && current === 1
      ? kubeletTier(knobs)
      : { idle: current, weight: await tier.read(weightKnob(knobs), null) };
  if (found.weight === undefined) return false;
  originals.recordIfAbsent(knobs.idle.file, found.idle);
  originals.recordIfAbsent(weightKnob(knobs).file, found.weight);
  return true;
}

function savedOriginals(knobs: CpuKnobs, originals: TierOriginals): Originals | undefined {
  const idle = knobs.idle.codec.schema.safeParse(originals.get(knobs.idle.file));
  const weight = weightKnob(knobs).codec.schema.safeParse(originals.get(weightKnob(knobs).file));
  return idle.success ? { idle: idle.data, weight: weight.success ? weight.data : undefined } : undefined;
}

async function* restoreIdle(
  tier: MechanismSession,
  knobs: CpuKnobs,
  { current, originals }: { current: number; originals: Originals | undefined },
): TierPass {
  const idle = knobs.idle;
  if (originals === undefined) {
    tier.fail({ knob: idle.file }, 'EPARSE', 'the saved original cpu.idle is not a number');
    return 'kept';
  }
  const failedBefore = tier.report.failed.length;
  const idleOp = tier.op(idle, { container: null, current, desired: originals.idle });
  if (idleOp) yield [idleOp];
  // Still idle (originally idle, or the write failed): the kernel would refuse the weight.
  if (originals.idle === 0 && originals.weight !== undefined && tier.report.failed.length === failedBefore) {
    const weight = await tier.read(weightKnob(knobs), null);
    const weightOp =
      weight === undefined
        ? undefined
        : tier.op(weightKnob(knobs), { container: null, current: weight, desired: originals.weight });
    if (weightOp) yield [weightOp];
  }
  return tier.report.failed.length === failedBefore ? 'restored' : 'kept';
}
