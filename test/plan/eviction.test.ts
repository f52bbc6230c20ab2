import { describe, expect, it } from 'vitest';
import { planSchema } from '../../src/api/plan.ts';
import { policySchema } from '../../src/api/policy.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { node, policy } from './fixtures.ts';

describe('planNode: eviction settings', () => {
  it('carries the documented defaults when the policy says nothing: both kinds off', () => {
    const plan = planNode({ policy: policy(), node: node('4'), pods: [] });
    expect(plan.spec.eviction).toEqual({
      priorityThreshold: 6999,
      conditionTransitionSeconds: 300,
      taint: false,
      memory: {
        enabled: false,
        thresholdPercent: 70,
        lowerPercent: 68,
        minReclaimBytes: 0,
        coolDownSeconds: 30,
        intervalSeconds: 1,
      },
      cpu: {
        enabled: false,
        satisfactionLowerPercent: 60,
        satisfactionUpperPercent: 80,
        usageThresholdPercent: 90,
        windowSeconds: 60,
        coolDownSeconds: 20,
      },
    });
    expect(planSchema.safeParse(plan).success).toBe(true);
  });

  it('takes the lower bound from the threshold when unset, converts minReclaim to bytes', () => {
    const plan = planNode({
      policy: policy({
        eviction: {
          priorityThreshold: 100,
          memory: { enabled: true, thresholdPercent: 80, minReclaim: '256Mi', coolDownSeconds: 5 },
          cpu: { enabled: true, windowSeconds: 30 },
        },
      }),
      node: node('4'),
      pods: [],
    });
    expect(plan.spec.eviction).toMatchObject({
      priorityThreshold: 100,
      memory: {
        enabled: true,
        thresholdPercent: 80,
        lowerPercent: 78,
        minReclaimBytes: 268435456,
        coolDownSeconds: 5,
      },
      cpu: { enabled: true, windowSeconds: 30, coolDownSeconds: 20 },
    });
  });

  it('refuses a lower bound at or above the threshold, and a CPU band upside down', () => {
    const parse = (eviction: unknown): boolean =>
      policySchema.safeParse({ ...policy(), spec: { eviction } }).success;
    expect(parse({ memory: { thresholdPercent: 50, lowerPercent: 50 } })).toBe(false);
    expect(parse({ memory: { lowerPercent: 70 } })).toBe(false);
    expect(parse({ memory: { lowerPercent: 69 } })).toBe(true);
    expect(parse({ cpu: { satisfactionLowerPercent: 50, satisfactionUpperPercent: 50 } })).toBe(false);
    expect(parse({ memory: { minReclaim: '-1Gi' } })).toBe(false);
  });
});
