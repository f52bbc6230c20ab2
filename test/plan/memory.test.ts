import { describe, expect, it } from 'vitest';
import { memoryFor, pageSize } from '../../src/plan/memory.ts';
import { resolvePolicy } from '../../src/plan/resolved-policy.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { guaranteed, node, policy } from './fixtures.ts';

const Gi = 2 ** 30;
const page = (bytes: number): number => Math.floor(bytes / pageSize) * pageSize;
const classes = resolvePolicy(policy()).classes;

describe('memory QoS values', () => {
  it('seed 001 8.8: LS request 4G limit 8G -> min 2G, low 3.2G, high 7.2G, max 8G', () => {
    expect(memoryFor(4 * Gi, 8 * Gi, classes.LS).memory).toEqual({
      minBytes: 2 * Gi,
      lowBytes: page(3.2 * Gi),
      highBytes: page(7.2 * Gi),
      maxBytes: 8 * Gi,
    });
  });

  it('seed 001 8.8: LSR request 8G limit 16G -> min 4.8G (0.6), low 6.4G (0.8), high 14.4G, max 16G', () => {
    expect(memoryFor(8 * Gi, 16 * Gi, classes.LSR).memory).toEqual({
      minBytes: page(4.8 * Gi),
      lowBytes: page(6.4 * Gi),
      highBytes: page(14.4 * Gi),
      maxBytes: 16 * Gi,
    });
  });

  it('seed 001 8.8: BE limit 8G -> min 0, low 0, high 5.6G, max 8G', () => {
    expect(memoryFor(0, 8 * Gi, classes.BE).memory).toEqual({
      minBytes: 0,
      lowBytes: 0,
      highBytes: page(5.6 * Gi),
      maxBytes: 8 * Gi,
    });
  });

  it('no limit: high and max unlimited (null)', () => {
    expect(memoryFor(Gi, null, classes.LS).memory).toEqual({
      minBytes: Gi / 2,
      lowBytes: page(0.8 * Gi),
      highBytes: null,
      maxBytes: null,
    });
  });

  it('Guaranteed LSE (request = limit): low 1.0 exceeds high 0.9 -> low lowered to high, a default (no cause)', () => {
    const result = memoryFor(4 * Gi, 4 * Gi, classes.LSE);
    expect(result.memory).toEqual({
      minBytes: page(3.2 * Gi),
      lowBytes: page(3.6 * Gi),
      highBytes: page(3.6 * Gi),
      maxBytes: 4 * Gi,
    });
    expect(result.adjustments).toEqual([
      { knob: 'memory.low', from: 4 * Gi, to: page(3.6 * Gi), causes: [] },
    ]);
  });

  it('min above a lowered low comes down too', () => {
    const strict = resolvePolicy(
      policy({ classes: { LS: { memory: { minRatio: 1, lowRatio: 1, highRatio: 0.5 } } } }),
    ).classes.LS;
    const { memory, adjustments } = memoryFor(4 * Gi, 4 * Gi, strict);
    expect(memory).toEqual({ minBytes: 2 * Gi, lowBytes: 2 * Gi, highBytes: 2 * Gi, maxBytes: 4 * Gi });
    expect(adjustments.map(a => a.causes)).toEqual([
      ['memory.lowRatio', 'memory.highRatio'],
      ['memory.minRatio', 'memory.lowRatio', 'memory.highRatio'],
    ]);
  });

  it('every value is page aligned', () => {
    const { memory } = memoryFor(1234567, 7654321, classes.LS);
    for (const v of Object.values(memory)) expect((v ?? 0) % pageSize).toBe(0);
  });
});

describe('memory warnings on the plan', () => {
  it('never for the defaults; for a ratio the policy set, naming it and what the value became', () => {
    const pods = [guaranteed('LSE', '2', '4Gi', { name: 'g' })];
    expect(planNode({ policy: policy(), node: node('16'), pods }).spec.warnings).toEqual([]);
    const set = policy({ classes: { LSE: { memory: { highRatio: 0.5 } } } });
    expect(planNode({ policy: set, node: node('16'), pods }).spec.warnings).toEqual([
      {
        pod: 'default/g',
        message: `spec.classes.LSE.memory.highRatio 0.5: memory.low ${4 * Gi} is above memory.high; lowered to ${2 * Gi}`,
      },
      {
        pod: 'default/g',
        message: `spec.classes.LSE.memory.highRatio 0.5: memory.min ${page(3.2 * Gi)} is above memory.low; lowered to ${2 * Gi}`,
      },
    ]);
  });
});
