import { describe, expect, it } from 'vitest';
import { flatTopology, type Topology } from '../../src/api/topology.ts';
import { topologyProblems, topologyRefusal } from '../../src/plan/topology-fit.ts';

const cpus = (list: [id: number, core: number, socket: number, numa: number][]): Topology => ({
  cpus: list.map(([id, core, socket, numa]) => ({ id, core, socket, numa })),
});

describe('topologyProblems', () => {
  it('accepts the flat topology and a real two-socket SMT layout with sparse core ids', () => {
    expect(topologyProblems(flatTopology(8), 8)).toEqual([]);
    // Linux core_id is sparse (0, 4, 8, 12 here): not a problem.
    const twoSockets = cpus([
      [0, 0, 0, 0],
      [1, 4, 0, 0],
      [2, 0, 1, 1],
      [3, 4, 1, 1],
      [4, 0, 0, 0],
      [5, 4, 0, 0],
      [6, 0, 1, 1],
      [7, 4, 1, 1],
    ]);
    expect(topologyProblems(twoSockets, 8)).toEqual([]);
  });

  it('names each field that cannot be this node: count, ids out of range, duplicates, socket, NUMA', () => {
    const paths = (t: Topology, n: number): string[] => topologyProblems(t, n).map(p => p.path);
    expect(paths(flatTopology(4), 8)).toEqual(['status.topology.cpus']);
    expect(
      paths(
        cpus([
          [100, 0, 0, 0],
          [1, 1, 0, 0],
        ]),
        2,
      ),
    ).toEqual(['status.topology.cpus[0].id']);
    expect(
      paths(
        cpus([
          [1, 0, 0, 0],
          [1, 1, 0, 0],
        ]),
        2,
      ),
    ).toEqual(['status.topology.cpus[1].id']);
    expect(
      paths(
        cpus([
          [0, 0, 9, 0],
          [1, 1, 0, 5],
        ]),
        2,
      ),
    ).toEqual(['status.topology.cpus[0].socket', 'status.topology.cpus[1].numa']);
    // Two threads of one core on different NUMA nodes.
    expect(
      paths(
        cpus([
          [0, 0, 0, 0],
          [1, 0, 0, 1],
        ]),
        2,
      ),
    ).toEqual(['status.topology.cpus[1].numa']);
  });

  it('the refusal names the first three fields and counts the rest', () => {
    const ids = {
      cpus: [100, 101, 102, 103, 104, 105, 106, 107].map(id => ({ id, core: id, socket: 0, numa: 0 })),
    };
    const message = topologyRefusal(topologyProblems(ids, 8));
    expect(message).toContain(
      'status.topology.cpus[0].id: cpu 100 does not exist on a node with 8 CPUs (ids 0-7)',
    );
    expect(message).toContain('and 5 more');
    expect(message).toContain('planned as if none were reported');
  });
});
