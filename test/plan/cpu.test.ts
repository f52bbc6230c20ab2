import { describe, expect, it } from 'vitest';
import { quotaFor, sharesFor } from '../../src/plan/cpu.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { guaranteed, node, pod, policy } from './fixtures.ts';

describe('cpu.shares', () => {
  it('reproduces the seed table for one requested CPU per class, and LS 2 CPU -> 2048', () => {
    const plan = planNode({
      policy: policy(),
      node: node('16'),
      pods: [
        guaranteed('LSE', '1', '1Gi', { name: 'lse' }),
        guaranteed('LSR', '1', '1Gi', { name: 'lsr' }),
        pod({ name: 'ls', cpu: '2', cpuLimit: '4' }),
        pod({ name: 'be', qos: 'BE' }),
      ],
    });
    const shares = Object.fromEntries(plan.spec.pods.map(p => [p.name, p.cpu.shares]));
    expect(shares).toEqual({ lse: 262144, lsr: 65536, ls: 2048, be: 2 });
  });

  it('follows request x sharesPerCPU / 1000 and clamps to the kernel range with the requested value kept', () => {
    expect(sharesFor(2000, 1024)).toEqual({ value: 2048 });
    expect(sharesFor(250, 1024)).toEqual({ value: 256 });
    expect(sharesFor(0, 1024)).toEqual({ value: 2, requested: 0 });
    expect(sharesFor(1, 1024)).toEqual({ value: 2, requested: 1 });
    expect(sharesFor(2000, 262144)).toEqual({ value: 262144, requested: 524288 });
  });

  it('warns when a sharesPerCPU the policy set is clamped, naming the field; the defaults never warn', () => {
    const pods = [guaranteed('LSE', '2', '1Gi', { name: 'big' }), pod({ name: 'tiny', cpu: '1m' })];
    const defaults = planNode({ policy: policy(), node: node('16'), pods });
    expect(defaults.spec.pods.find(p => p.name === 'big')?.cpu.shares).toBe(262144);
    expect(defaults.spec.warnings).toEqual([]);
    const set = policy({ classes: { LSE: { cpu: { sharesPerCPU: 200000 } } } });
    expect(planNode({ policy: set, node: node('16'), pods }).spec.warnings).toEqual([
      {
        pod: 'default/big',
        message:
          'spec.classes.LSE.cpu.sharesPerCPU 200000 gives cpu.shares 400000; clamped to 262144 (kernel range 2..262144)',
      },
    ]);
  });

  it('BE is fixed at 2 by default whatever it requests, and follows sharesPerCPU once the policy sets it', () => {
    const be = pod({ name: 'be', qos: 'BE', cpu: '4' });
    expect(planNode({ policy: policy(), node: node('16'), pods: [be] }).spec.pods[0]?.cpu.shares).toBe(2);
    const weighted = policy({ classes: { BE: { cpu: { sharesPerCPU: 10 } } } });
    expect(planNode({ policy: weighted, node: node('16'), pods: [be] }).spec.pods[0]?.cpu.shares).toBe(40);
  });
});

describe('CFS quota from limits', () => {
  it('is limit x period / 1000, at least 1000 us, and -1 without a limit', () => {
    expect(quotaFor(4000, 100000)).toBe(400000);
    expect(quotaFor(5, 100000)).toBe(1000);
    expect(quotaFor(null, 100000)).toBe(-1);
  });
});
