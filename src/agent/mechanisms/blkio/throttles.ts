// Throttle rules of a plan pod resolved to per-device rates (v1 files) or io.max lines (v2).
import type { PlanPod } from '../../../api/plan.ts';
import { resolveDevice, type BlockDevice } from '../../discovery/block-devices.ts';
import type { IoLimits, IoMax } from '../core/codecs.ts';
import type { UnsupportedKnob } from '../core/report.ts';

export const throttleKeys = ['readBps', 'writeBps', 'readIops', 'writeIops'] as const;
export type ThrottleKey = (typeof throttleKeys)[number];

export const throttleFiles = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
} as const;

export interface ResolvedThrottle {
  readonly rates: Record<ThrottleKey, Record<string, number>>;
  readonly unresolved: UnsupportedKnob[];
}

function addRates(
  rates: ResolvedThrottle['rates'],
  device: string,
  rule: PlanPod['blkio']['throttle'][number],
): void {
  for (const key of throttleKeys) {
    const rate = rule[key] ?? 0;
    if (rate > 0) rates[key][device] = rate;
  }
}

/** Rules apply in order; a later rule's non-zero rates override earlier ones for the same device. */
export function resolveThrottles(
  pod: PlanPod,
  devices: readonly BlockDevice[],
  knobName: string,
): ResolvedThrottle {
  const rates: ResolvedThrottle['rates'] = { readBps: {}, writeBps: {}, readIops: {}, writeIops: {} };
  const unresolved: UnsupportedKnob[] = [];
  for (const rule of pod.blkio.throttle) {
    const resolved = resolveDevice(rule.device, devices);
    if (!resolved.ok) {
      unresolved.push({ knob: knobName, reason: resolved.reason });
      continue;
    }
    for (const device of resolved.majMins) addRates(rates, device, rule);
  }
  return { rates, unresolved };
}

export function ioMaxOf(rates: ResolvedThrottle['rates']): IoMax {
  const devices = new Set([
    ...Object.keys(rates.readBps),
    ...Object.keys(rates.writeBps),
    ...Object.keys(rates.readIops),
    ...Object.keys(rates.writeIops),
  ]);
  const ioMax: Record<string, IoLimits> = {};
  for (const device of devices) {
    ioMax[device] = {
      rbps: rates.readBps[device] ?? null,
      wbps: rates.writeBps[device] ?? null,
      riops: rates.readIops[device] ?? null,
      wiops: rates.writeIops[device] ?? null,
    };
  }
  return ioMax;
}
