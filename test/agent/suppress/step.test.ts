import { describe, expect, it } from 'vitest';
import { boundedTarget, nextQuota, type StepLimits } from '../../../src/agent/suppress/step.ts';

const limits: StepLimits = {
  floorQuotaUs: 10000,
  ceilingQuotaUs: 700000,
  maxStepUpQuotaUs: 70000,
  deadbandQuotaUs: 16000,
};

describe('nextQuota', () => {
  it('writes the bounded target when the kernel value is unknown or unlimited', () => {
    expect(nextQuota(undefined, 300000, limits)).toEqual({ quotaUs: 300000, write: true, reason: 'initial' });
    expect(nextQuota(undefined, 900000, limits)).toEqual({ quotaUs: 700000, write: true, reason: 'initial' });
    expect(nextQuota(undefined, 2000, limits)).toEqual({ quotaUs: 10000, write: true, reason: 'initial' });
  });

  it('applies a decrease at once, in full', () => {
    expect(nextQuota(700000, 70000, limits)).toEqual({ quotaUs: 70000, write: true, reason: 'decrease' });
  });

  it('limits an increase to maxStepUpQuotaUs per step', () => {
    expect(nextQuota(210000, 700000, limits)).toEqual({
      quotaUs: 280000,
      write: true,
      reason: 'step-limited',
    });
    expect(nextQuota(650000, 700000, limits)).toEqual({ quotaUs: 700000, write: true, reason: 'increase' });
  });

  it('skips changes smaller than the deadband in both directions', () => {
    expect(nextQuota(443333, 431666, limits)).toEqual({ quotaUs: 443333, write: false, reason: 'deadband' });
    expect(nextQuota(443333, 455000, limits)).toEqual({ quotaUs: 443333, write: false, reason: 'deadband' });
    expect(nextQuota(443333, 427333, limits)).toEqual({ quotaUs: 427333, write: true, reason: 'decrease' });
  });

  it('always writes a change that lands on the floor or the ceiling, even inside the deadband', () => {
    expect(nextQuota(15000, 10000, limits)).toEqual({ quotaUs: 10000, write: true, reason: 'decrease' });
    expect(nextQuota(695000, 700000, limits)).toEqual({ quotaUs: 700000, write: true, reason: 'increase' });
    expect(nextQuota(15000, 1000, limits)).toEqual({ quotaUs: 10000, write: true, reason: 'decrease' });
  });

  it('reports unchanged when the bounded target is what the kernel holds', () => {
    expect(nextQuota(700000, 800000, limits)).toEqual({ quotaUs: 700000, write: false, reason: 'unchanged' });
  });

  it('brings a quota outside the bounds back inside them (a plan update moved them)', () => {
    expect(nextQuota(900000, 690000, limits)).toEqual({ quotaUs: 690000, write: true, reason: 'decrease' });
    expect(nextQuota(2000, 700000, limits)).toEqual({
      quotaUs: 72000,
      write: true,
      reason: 'raise-to-floor',
    });
    expect(nextQuota(2000, 700000, { ...limits, floorQuotaUs: 100000 })).toEqual({
      quotaUs: 100000,
      write: true,
      reason: 'raise-to-floor',
    });
  });

  it('converges when the step limit is smaller than the deadband', () => {
    const tight = { ...limits, maxStepUpQuotaUs: 5000 };
    let current = 600000;
    const seen: number[] = [];
    for (let i = 0; i < 30; i++) {
      const d = nextQuota(current, 640000, tight);
      if (!d.write) break;
      current = d.quotaUs;
      seen.push(current);
    }
    expect(seen.slice(0, 3)).toEqual([605000, 610000, 615000]);
    expect(current).toBeGreaterThan(640000 - 16000);
  });

  it('never goes below the kernel minimum of 1000 us, whatever the floor says', () => {
    expect(boundedTarget(0, { ...limits, floorQuotaUs: 0 })).toBe(1000);
    expect(boundedTarget(5000, { ...limits, ceilingQuotaUs: 3000, floorQuotaUs: 4000 })).toBe(4000);
  });
});
