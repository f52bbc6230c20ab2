import { describe, expect, it } from 'vitest';
import { planNode } from '../../src/plan/plan-node.ts';
import { baseMilli, quotaAt, ratioAt } from '../../src/plan/suppress.ts';
import { node, pod, policy } from './fixtures.ts';

const defaultCurve = [
  { pressure: 40, ratio: 1.0 },
  { pressure: 50, ratio: 0.8 },
  { pressure: 80, ratio: 0.3 },
  { pressure: 85, ratio: 0.3 },
  { pressure: 95, ratio: 0.1 },
];

describe('BE suppress', () => {
  it('seed 001 8.5: 16 CPUs, LS requests 8, system 1 -> quota 700000 / 210000 / 70000 at pressure 40 / 80 / 95', () => {
    const plan = planNode({
      policy: policy(),
      node: node('16', '15'),
      pods: [pod({ cpu: '4' }), pod({ cpu: '4' }), pod({ qos: 'BE' })],
    });
    const s = plan.spec.cpuSuppress;
    expect(s.baseMilliCPU).toBe(7000);
    expect(s.cfsPeriodUs).toBe(100000);
    expect([40, 80, 95].map(p => quotaAt(s, p))).toEqual([700000, 210000, 70000]);
    expect(s.ceilingQuotaUs).toBe(700000);
  });

  it('interpolates linearly between points and is flat beyond the ends', () => {
    expect(ratioAt(defaultCurve, 0, 'linear')).toBe(1);
    expect(ratioAt(defaultCurve, 45, 'linear')).toBeCloseTo(0.9);
    expect(ratioAt(defaultCurve, 65, 'linear')).toBeCloseTo(0.55);
    expect(ratioAt(defaultCurve, 82, 'linear')).toBeCloseTo(0.3);
    expect(ratioAt(defaultCurve, 90, 'linear')).toBeCloseTo(0.2);
    expect(ratioAt(defaultCurve, 100, 'linear')).toBe(0.1);
  });

  it('step interpolation holds the ratio of the last point passed', () => {
    expect(ratioAt(defaultCurve, 49.9, 'step')).toBe(1);
    expect(ratioAt(defaultCurve, 50, 'step')).toBe(0.8);
    expect(ratioAt(defaultCurve, 94, 'step')).toBe(0.3);
  });

  it('never goes below the floor, nor below the kernel minimum of 1000 us', () => {
    const plan = planNode({
      policy: policy({ cpuSuppress: { floorMilliCPU: 0 } }),
      node: node('2'),
      pods: [pod({ cpu: '2' })],
    });
    expect(plan.spec.cpuSuppress.baseMilliCPU).toBe(0);
    expect(plan.spec.cpuSuppress.floorQuotaUs).toBe(1000);
    expect(quotaAt(plan.spec.cpuSuppress, 99)).toBe(1000);
    const floored = planNode({
      policy: policy({ cpuSuppress: { floorMilliCPU: 500 } }),
      node: node('16'),
      pods: [],
    });
    expect(quotaAt(floored.spec.cpuSuppress, 100)).toBe(Math.max(50000, Math.floor(16000 * 100 * 0.1)));
  });

  it('base excludes BE requests, uses the policy systemReserved override, and is never negative', () => {
    expect(baseMilli({ capacityMilli: 16000, nonBERequestsMilli: 20000, systemReservedMilli: 1000 })).toBe(0);
    const plan = planNode({
      policy: policy({ systemReserved: { cpu: '2' } }),
      node: node('16', '15'),
      pods: [pod({ cpu: '3' }), pod({ qos: 'BE', cpu: '5' })],
    });
    expect(plan.spec.cpuSuppress.baseMilliCPU).toBe(11000);
  });

  it('step limit and deadband come from the policy and node capacity', () => {
    const plan = planNode({
      policy: policy({ cpuSuppress: { maxStepUpRatio: 0.2 } }),
      node: node('16', '15'),
      pods: [],
    });
    expect(plan.spec.cpuSuppress.maxStepUpQuotaUs).toBe(300000);
    expect(plan.spec.cpuSuppress.deadbandQuotaUs).toBe(16000);
  });

  it('--pressure fills quotaAtPressure', () => {
    const plan = planNode({
      policy: policy(),
      node: node('16', '15'),
      pods: [pod({ cpu: '8' })],
      pressure: 80,
    });
    expect(plan.spec.cpuSuppress.quotaAtPressure).toBe(210000);
    expect(plan.spec.cpuSuppress.evaluatedPressure).toBe(80);
  });
});
