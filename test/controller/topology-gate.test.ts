import { describe, expect, it } from 'vitest';
import { flatTopology } from '../../src/api/topology.ts';
import { TopologyGate } from '../../src/controller/topology-gate.ts';

describe('TopologyGate', () => {
  it('adopts the first report at once, then at most one new report per interval per node', () => {
    let now = 1_000_000;
    const gate = new TopologyGate(30_000, () => now);
    const a = flatTopology(4);
    const b = { cpus: a.cpus.map(c => ({ ...c, numa: c.id >> 1 })) };
    // A new plan: nothing reported yet, then the agent's report, adopted at once.
    expect(gate.choose('n1', undefined)).toEqual({ topology: undefined, waitMs: 0 });
    expect(gate.choose('n1', a)).toEqual({ topology: a, waitMs: 0 });
    // A different report 5 s later waits 25 s; the node keeps a.
    now += 5_000;
    expect(gate.choose('n1', b)).toEqual({ topology: a, waitMs: 25_000 });
    // Other nodes are not held back.
    expect(gate.choose('n2', b)).toEqual({ topology: b, waitMs: 0 });
    // Reporting a again changes nothing; at the interval's end b is adopted.
    expect(gate.choose('n1', a)).toEqual({ topology: a, waitMs: 0 });
    now += 25_000;
    expect(gate.choose('n1', b)).toEqual({ topology: b, waitMs: 0 });
    // Withdrawing the report is a change like any other.
    now += 1_000;
    expect(gate.choose('n1', undefined)).toEqual({ topology: b, waitMs: 29_000 });
    // A forgotten node (its plan deleted) starts over.
    gate.forget('n1');
    expect(gate.choose('n1', a)).toEqual({ topology: a, waitMs: 0 });
  });
});
