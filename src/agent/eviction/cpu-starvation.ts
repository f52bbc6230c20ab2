// CPU starvation of the BE tier: its real limit against what BE pods request, over a window. Pure; samples are
// passed in by the runtime.
import type { PlanEviction } from '../../api/plan.ts';

/** One sample of the BE tier. */
export interface BeCpuSample {
  readonly at: number;
  /** min(|BE cpuset| x 1000, quota x 1000 / period): what the BE tier can use at most (Koordinator's real limit). */
  readonly realLimitMilli: number;
  /** Sum of the CPU requests of the node's BE pods. */
  readonly requestMilli: number;
  /** CPU the BE tier used since the previous sample, in millicores. */
  readonly usageMilli: number;
}

export function beRealLimitMilli(cpusetSize: number, quotaUs: number, periodUs: number): number {
  const byCpuset = cpusetSize * 1000;
  if (quotaUs < 0 || periodUs <= 0) return byCpuset;
  return Math.min(byCpuset, Math.floor((quotaUs * 1000) / periodUs));
}

export interface CpuStarvation {
  /** Satisfaction (real limit / requests) of the last sample, percent; undefined when BE requests nothing. */
  readonly satisfactionPercent: number | undefined;
  /** The last sample shows starvation (the node condition follows this). */
  readonly starvedNow: boolean;
  /** Starved on the window average and in the last sample, over a fully covered window: a round is due. */
  readonly due: boolean;
  /** Millicores of BE requests to evict so satisfaction reaches the upper bound. */
  readonly targetMilli: number;
}

type Settings = PlanEviction['cpu'];

/**
 * Starved: BE pods request something (a BE tier of BestEffort pods requesting nothing was promised nothing and is
 * never starved), they use at least usageThresholdPercent of the real limit (they want more than they get), and
 * satisfaction is at or below satisfactionLowerPercent.
 */
function starved(sample: Omit<BeCpuSample, 'at'>, settings: Settings): boolean {
  if (sample.requestMilli <= 0) return false;
  const wantsMore = sample.usageMilli * 100 >= sample.realLimitMilli * settings.usageThresholdPercent;
  return wantsMore && sample.realLimitMilli * 100 <= sample.requestMilli * settings.satisfactionLowerPercent;
}

/** Requests to remove so real limit / remaining requests reaches the upper bound (exact, not Koordinator's estimate). */
function releaseMilli(sample: Omit<BeCpuSample, 'at'>, settings: Settings): number {
  const keep = (sample.realLimitMilli * 100) / settings.satisfactionUpperPercent;
  return Math.max(0, Math.ceil(sample.requestMilli - keep));
}

export class BeCpuWindow {
  #samples: BeCpuSample[] = [];

  add(sample: BeCpuSample, windowSeconds: number): void {
    this.#samples.push(sample);
    const start = sample.at - windowSeconds * 1000;
    // Keep the last sample at or before the window's start: it shows the window is covered.
    while (this.#samples.length > 1 && (this.#samples[1]?.at ?? Infinity) <= start) this.#samples.shift();
  }

  verdict(settings: Settings): CpuStarvation {
    const last = this.#samples[this.#samples.length - 1];
    const first = this.#samples[0];
    if (!last || !first)
      return { satisfactionPercent: undefined, starvedNow: false, due: false, targetMilli: 0 };
    const satisfactionPercent =
      last.requestMilli > 0 ? (last.realLimitMilli * 100) / last.requestMilli : undefined;
    const starvedNow = starved(last, settings);
    const covered = first.at <= last.at - settings.windowSeconds * 1000;
    const n = this.#samples.length;
    const sum = (pick: (s: BeCpuSample) => number): number =>
      this.#samples.reduce((total, s) => total + pick(s), 0) / n;
    const average = {
      realLimitMilli: sum(s => s.realLimitMilli),
      requestMilli: sum(s => s.requestMilli),
      usageMilli: sum(s => s.usageMilli),
    };
    const due = covered && starvedNow && starved(average, settings);
    // The smaller of the two, as Koordinator does: a window that is recovering does not evict for its worst past.
    const targetMilli = due ? Math.min(releaseMilli(average, settings), releaseMilli(last, settings)) : 0;
    return { satisfactionPercent, starvedNow, due, targetMilli };
  }

  /** After a round: the window starts again, so the next round sees the tier with fewer pods. */
  reset(): void {
    this.#samples = [];
  }
}
