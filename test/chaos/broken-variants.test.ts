// The chaos suite's checks are not vacuous: the same run with a deliberately broken planner or agent fails them.
// Short runs without faults: the workload alone (two exclusive pods per node, every shared cpuset shrinking) is
// enough to expose either bug. Their reports list violations and "NOT SETTLED" on purpose, so they go to a file
// (test/support/report-file.ts), not the test log.
import { describe, expect, it } from 'vitest';
import { keepReport } from '../support/report-file.ts';
import { formatReport, runChaos } from './run-chaos.ts';

const chaosMs = 1500;

describe('the chaos invariants catch a broken system', () => {
  it('a planner that hands two exclusive pods the same CPUs: sharing in the plan history, plans not the planner’s', async () => {
    const report = await runChaos({
      seed: 7,
      chaosMs,
      faults: false,
      variant: 'shared-exclusive-planner',
      settleTimeoutMs: 3000,
    });
    const note = keepReport('chaos-broken-shared-exclusive-planner', formatReport(report, chaosMs));
    const kinds = new Set(report.violations.map(v => v.kind));
    expect(kinds, note).toContain('exclusive-shared');
    expect(kinds, note).toContain('plan-differs');
    expect(report.settled, note).toBe(false);
  }, 60_000);

  it('an agent that never shrinks a cpuset (leveled update without its second pass): files differ, exclusive CPUs shared in the kernel', async () => {
    const report = await runChaos({
      seed: 7,
      chaosMs,
      faults: false,
      variant: 'union-cpusets-agent',
      settleTimeoutMs: 3000,
    });
    const note = keepReport('chaos-broken-union-cpusets-agent', formatReport(report, chaosMs));
    const kinds = new Set(report.violations.map(v => v.kind));
    expect(kinds, note).toContain('cgroup-mismatch');
    expect(kinds, note).toContain('kernel-exclusive');
    expect(report.settled, note).toBe(false);
  }, 60_000);

  it('a controller that re-applies every plan on a timer: the plans are right, but it writes once settled', async () => {
    const report = await runChaos({
      seed: 7,
      chaosMs,
      faults: false,
      variant: 'resync-writing-controller',
      settleTimeoutMs: 10_000,
    });
    console.log(formatReport(report, chaosMs));
    const kinds = new Set(report.violations.map(v => v.kind));
    expect(report.settled).toBe(true);
    expect([...kinds]).toEqual(['steady-writes']);
    expect(report.steadyWrites).toBeGreaterThan(0);
  }, 60_000);
});
