// Chaos suite: the controller (two replicas, leader election) and three agents on simulated nodes run a workload of
// pod churn and policy edits while the API server drops, stalls and expires watches, fails requests with
// 429/500/503, slows down and restarts, and controllers and agents are killed and restarted. At the end every
// invariant must hold (see test/chaos/invariants.ts and final-state.ts). Seeds and length: docs/reliability.md.
import { describe, expect, it } from 'vitest';
import { keepReport } from '../support/report-file.ts';
import { formatReport, runChaos } from './run-chaos.ts';

/** NODEQOS_CHAOS_SEEDS: seeds and ranges, e.g. "7", "1,5,9" or "1-50"; default 1,2,3. */
function chaosSeeds(value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return [1, 2, 3];
  return value.split(',').flatMap(item => {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(item);
    if (!match) throw new Error(`NODEQOS_CHAOS_SEEDS: "${item}" is neither a seed nor a range such as 1-20`);
    const first = Number(match[1]);
    const last = Number(match[2] ?? match[1]);
    return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
  });
}

const seeds = chaosSeeds(process.env.NODEQOS_CHAOS_SEEDS);
const chaosMs = Number(process.env.NODEQOS_CHAOS_SECONDS ?? '10') * 1000;

describe('chaos', () => {
  for (const seed of seeds) {
    it(
      `seed ${seed}: after faults, kills and churn the cluster settles with every invariant intact`,
      async () => {
        const report = await runChaos({ seed, chaosMs });
        const text = formatReport(report, chaosMs);
        const note = `${keepReport(`chaos-seed-${seed}`, text)}\n${text}`;
        expect(report.violations, note).toEqual([]);
        expect(report.settled, note).toBe(true);
        expect(report.injected.size, note).toBeGreaterThan(0);
        expect(report.kills.size, note).toBeGreaterThan(0);
      },
      chaosMs + 90_000,
    );
  }
});
