// The BE tier's CFS quota as a function of node CPU pressure.
import type { PlanSpec } from '../api/plan.ts';
import { minQuotaUs } from './cpu.ts';

type Curve = readonly { readonly pressure: number; readonly ratio: number }[];

/** Ratio at a pressure: linear between points (or the last point passed, for step), flat beyond the ends. */
export function ratioAt(curve: Curve, pressure: number, interpolation: 'linear' | 'step'): number {
  const first = curve[0];
  const last = curve[curve.length - 1];
  if (!first || !last) return 1;
  if (pressure <= first.pressure) return first.ratio;
  if (pressure >= last.pressure) return last.ratio;
  for (let i = 1; i < curve.length; i++) {
    const hi = curve[i];
    const lo = curve[i - 1];
    if (!hi || !lo || pressure >= hi.pressure) continue;
    if (interpolation === 'step') return lo.ratio;
    const t = (pressure - lo.pressure) / (hi.pressure - lo.pressure);
    return lo.ratio + t * (hi.ratio - lo.ratio);
  }
  return last.ratio;
}

export interface SuppressBase {
  readonly capacityMilli: number;
  readonly nonBERequestsMilli: number;
  readonly systemReservedMilli: number;
}

export function baseMilli({ capacityMilli, nonBERequestsMilli, systemReservedMilli }: SuppressBase): number {
  return Math.max(0, capacityMilli - nonBERequestsMilli - systemReservedMilli);
}

/** quota = base x period / 1000 x ratio, never below the floor (itself never below the kernel's 1000 us). */
export function quotaAt(suppress: PlanSpec['cpuSuppress'], pressure: number): number {
  const ratio = ratioAt(suppress.curve, pressure, suppress.interpolation);
  // Rounded to 1e-6 us before flooring so 7000m x 0.3 gives 210000, not 209999 (binary fractions).
  const raw = Math.floor(
    Math.round(((suppress.baseMilliCPU * suppress.cfsPeriodUs) / 1000) * ratio * 1e6) / 1e6,
  );
  return Math.max(suppress.floorQuotaUs, minQuotaUs, raw);
}
