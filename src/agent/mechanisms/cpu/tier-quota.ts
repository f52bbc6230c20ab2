// The BE tier quota on the kubepods besteffort directory: cpu.cfs_quota_us and cpu.cfs_period_us on v1, cpu.max on
// v2. The executor's BE tier writer decides when (pods first when lowering, the tier first when raising).
import type { CpuMax } from '../core/codecs.ts';
import { isFilled } from '../core/desired.ts';
import { OwnerVanishedError, type MechanismSession, type WriteOp } from '../core/session.ts';
import { quotaFile, type CpuKnobs } from './knobs.ts';

/** The quota the tier directory holds now, or undefined when it cannot be read (reported). */
export async function readTierQuota(tier: MechanismSession, knobs: CpuKnobs): Promise<CpuMax | undefined> {
  try {
    if (knobs.version === 'v2') return await tier.read(knobs.cpuMax, null);
    const quotaUs = await tier.read(knobs.quota, null);
    const periodUs = await tier.read(knobs.period, null);
    return quotaUs === undefined || periodUs === undefined ? undefined : { quotaUs, periodUs };
  } catch (error) {
    if (!(error instanceof OwnerVanishedError)) throw error;
    tier.fail({ knob: quotaFile(knobs) }, 'ENOENT', `the besteffort cgroup does not exist: ${error.message}`);
    return undefined;
  }
}

export function tierQuotaOps(
  tier: MechanismSession,
  knobs: CpuKnobs,
  current: CpuMax,
  desired: CpuMax,
): WriteOp[] {
  if (knobs.version === 'v2')
    return [tier.op(knobs.cpuMax, { container: null, current, desired })].filter(isFilled);
  const quota = tier.op(knobs.quota, { container: null, current: current.quotaUs, desired: desired.quotaUs });
  const period = tier.op(knobs.period, {
    container: null,
    current: current.periodUs,
    desired: desired.periodUs,
  });
  return [quota, period].filter(isFilled);
}
