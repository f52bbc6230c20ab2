import { describe, expect, it } from 'vitest';
import { nextConditions, PressureObservation } from '../../../src/agent/conditions/transition.ts';

describe('PressureObservation (transition period)', () => {
  it('turns True at the first pressured sample and False only a full period after the last one', () => {
    const pressure = new PressureObservation();
    const period = 300_000;
    expect(pressure.active(0, period)).toBe(false);
    pressure.observe(true, 1000);
    expect(pressure.active(1000, period)).toBe(true);
    // Samples flapping around the threshold keep it True.
    pressure.observe(false, 2000);
    pressure.observe(true, 3000);
    pressure.observe(false, 4000);
    expect(pressure.active(3000 + period, period)).toBe(true);
    expect(pressure.active(3000 + period + 1, period)).toBe(false);
  });

  it('with a period of 0 follows the samples', () => {
    const pressure = new PressureObservation();
    pressure.observe(true, 10);
    expect(pressure.active(10, 0)).toBe(true);
    pressure.observe(false, 11);
    expect(pressure.active(11, 0)).toBe(false);
  });
});

describe('nextConditions', () => {
  const t0 = '2026-01-01T00:00:00Z';
  const t1 = '2026-01-01T00:05:00Z';
  const pressure = {
    type: 'BEMemoryPressure',
    status: 'True',
    reason: 'WorkingSetOverThreshold',
    message: '75% >= 70%',
  } as const;

  it('keeps lastTransitionTime while the status holds, moves it when the status changes', () => {
    const first = nextConditions([], [pressure], t0);
    expect(first.changed).toBe(true);
    expect(first.conditions[0]).toMatchObject({ lastTransitionTime: t0, lastHeartbeatTime: t0 });
    const same = nextConditions(first.conditions, [pressure], t1);
    expect(same.changed).toBe(false);
    expect(same.conditions[0]).toMatchObject({ lastTransitionTime: t0, lastHeartbeatTime: t1 });
    const cleared = nextConditions(
      same.conditions,
      [{ ...pressure, status: 'False', reason: 'NoPressure', message: '' }],
      t1,
    );
    expect(cleared.changed).toBe(true);
    expect(cleared.conditions[0]?.lastTransitionTime).toBe(t1);
  });

  it('a new message with the same status is a change but keeps the transition time', () => {
    const first = nextConditions([], [pressure], t0);
    const moved = nextConditions(first.conditions, [{ ...pressure, message: '80% >= 70%' }], t1);
    expect(moved.changed).toBe(true);
    expect(moved.conditions[0]?.lastTransitionTime).toBe(t0);
  });
});
