// One step of the BE quota: from the quota currently written and the curve's target, the quota to write now.
//
// - The target is held inside [floor, ceiling] (floor never below the kernel's 1000 us).
// - Decreases are written at once, in full: LS pods must get their CPU back within one interval.
// - Increases move at most maxStepUpQuotaUs per step, so BE work ramps back up gradually.
// - A change smaller than deadbandQuotaUs is not written, so sampling noise does not rewrite the file every tick.
//   The deadband is measured against the quota in the kernel, not the last target, so the written quota is
//   never more than one deadband away from the target however slowly the pressure drifts. A change that lands on
//   the floor or the ceiling is always written, so full suppression and full release are exact.
// - An increase is deadbanded on the whole distance to the target, not the stepped amount, so a step limit smaller
//   than the deadband still converges.
import { minQuotaUs } from '../../plan/cpu.ts';

export interface StepLimits {
  readonly floorQuotaUs: number;
  readonly ceilingQuotaUs: number;
  readonly maxStepUpQuotaUs: number;
  readonly deadbandQuotaUs: number;
}

export type StepReason =
  'initial' | 'decrease' | 'increase' | 'step-limited' | 'raise-to-floor' | 'deadband' | 'unchanged';

export interface StepDecision {
  /** The quota the kernel should hold after this step (equal to current when nothing is written). */
  readonly quotaUs: number;
  readonly write: boolean;
  readonly reason: StepReason;
}

export function quotaBounds(limits: StepLimits): { readonly low: number; readonly high: number } {
  const low = Math.max(limits.floorQuotaUs, minQuotaUs);
  return { low, high: Math.max(limits.ceilingQuotaUs, low) };
}

export function boundedTarget(target: number, limits: StepLimits): number {
  const { low, high } = quotaBounds(limits);
  return Math.min(high, Math.max(low, target));
}

/** current undefined: the kernel's value is unknown or unlimited (-1), so any target is written as is. */
export function nextQuota(current: number | undefined, target: number, limits: StepLimits): StepDecision {
  const { low, high } = quotaBounds(limits);
  const bounded = boundedTarget(target, limits);
  if (current === undefined) return { quotaUs: bounded, write: true, reason: 'initial' };
  if (bounded === current) return { quotaUs: current, write: false, reason: 'unchanged' };
  const onBound = bounded === low || bounded === high;
  if (bounded < current) {
    const worth = current > high || onBound || current - bounded >= limits.deadbandQuotaUs;
    return worth
      ? { quotaUs: bounded, write: true, reason: 'decrease' }
      : { quotaUs: current, write: false, reason: 'deadband' };
  }
  if (current < low) {
    return {
      quotaUs: Math.max(low, Math.min(bounded, current + limits.maxStepUpQuotaUs)),
      write: true,
      reason: 'raise-to-floor',
    };
  }
  if (!onBound && bounded - current < limits.deadbandQuotaUs)
    return { quotaUs: current, write: false, reason: 'deadband' };
  const stepped = current + limits.maxStepUpQuotaUs;
  return stepped < bounded
    ? { quotaUs: stepped, write: true, reason: 'step-limited' }
    : { quotaUs: bounded, write: true, reason: 'increase' };
}
