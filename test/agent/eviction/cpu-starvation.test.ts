import { describe, expect, it } from 'vitest';
import { BeCpuWindow, beRealLimitMilli } from '../../../src/agent/eviction/cpu-starvation.ts';

const settings = {
  enabled: true,
  satisfactionLowerPercent: 60,
  satisfactionUpperPercent: 80,
  usageThresholdPercent: 90,
  windowSeconds: 60,
  coolDownSeconds: 20,
};

describe('BE real limit', () => {
  it('is the smaller of the cpuset and the quota; an unlimited quota leaves the cpuset', () => {
    expect(beRealLimitMilli(8, 200_000, 100_000)).toBe(2000);
    expect(beRealLimitMilli(2, 800_000, 100_000)).toBe(2000);
    expect(beRealLimitMilli(4, -1, 100_000)).toBe(4000);
  });
});

describe('BeCpuWindow', () => {
  // BE pods request 4 CPUs; the tier is held at 1 CPU (satisfaction 25 %) and uses all of it.
  const starved = { realLimitMilli: 1000, requestMilli: 4000, usageMilli: 990 };

  it('is due only once the whole window showed starvation', () => {
    const window = new BeCpuWindow();
    for (let s = 0; s < 60; s += 5) window.add({ at: s * 1000, ...starved }, 60);
    expect(window.verdict(settings)).toMatchObject({ starvedNow: true, due: false });
    window.add({ at: 60_000, ...starved }, 60);
    const verdict = window.verdict(settings);
    expect(verdict.due).toBe(true);
    expect(verdict.satisfactionPercent).toBe(25);
    // Keep 1000 / 0.8 = 1250m of requests: release 2750m.
    expect(verdict.targetMilli).toBe(2750);
  });

  it('is not starved when BE pods do not use what they have, nor when they request nothing', () => {
    const idle = new BeCpuWindow();
    for (let s = 0; s <= 60; s += 5) idle.add({ at: s * 1000, ...starved, usageMilli: 500 }, 60);
    expect(idle.verdict(settings)).toMatchObject({ starvedNow: false, due: false, targetMilli: 0 });
    const bestEffort = new BeCpuWindow();
    for (let s = 0; s <= 60; s += 5) bestEffort.add({ at: s * 1000, ...starved, requestMilli: 0 }, 60);
    expect(bestEffort.verdict(settings)).toMatchObject({ satisfactionPercent: undefined, due: false });
  });

  it('a recovered last sample stops the round even if the window average is still starved', () => {
    const window = new BeCpuWindow();
    for (let s = 0; s < 60; s += 5) window.add({ at: s * 1000, ...starved }, 60);
    window.add({ at: 60_000, realLimitMilli: 3500, requestMilli: 4000, usageMilli: 3400 }, 60);
    expect(window.verdict(settings)).toMatchObject({ starvedNow: false, due: false });
  });

  it('satisfaction exactly at the lower bound counts as starved; just above does not', () => {
    const at = new BeCpuWindow();
    for (let s = 0; s <= 60; s += 10)
      at.add({ at: s * 1000, realLimitMilli: 600, requestMilli: 1000, usageMilli: 600 }, 60);
    expect(at.verdict(settings).due).toBe(true);
    const above = new BeCpuWindow();
    for (let s = 0; s <= 60; s += 10)
      above.add({ at: s * 1000, realLimitMilli: 601, requestMilli: 1000, usageMilli: 601 }, 60);
    expect(above.verdict(settings).due).toBe(false);
  });
});
