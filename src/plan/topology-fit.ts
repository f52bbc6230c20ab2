// Does a reported CPU topology describe the node it claims to? The agent reports it in the plan status, which
// anyone holding the agent's credentials can write (issue 14): a topology that cannot be this node's is refused
// and the node is planned as if none were reported (CPUs 0..n-1), never with ids no CPU of the node has.
import type { Topology } from '../api/topology.ts';

export interface TopologyProblem {
  /** Field path under the plan, e.g. status.topology.cpus[3].id. */
  readonly path: string;
  readonly message: string;
}

const cpuPath = (index: number, field: string): string => `status.topology.cpus[${index}].${field}`;

/**
 * Every way `topology` contradicts a node with `cpuCount` online CPUs (its status.capacity.cpu):
 * - the number of CPUs differs from the capacity;
 * - a CPU id is not below the capacity (kubelet and the kernel number online CPUs 0..n-1; a node with offline
 *   CPUs in the middle is planned flat, see docs/decisions/0145);
 * - a CPU id is listed twice;
 * - a socket or NUMA id is not below the CPU count (each holds at least one CPU, so more ids than CPUs cannot be);
 * - two threads of one core (same socket and core id) claim different NUMA nodes.
 * Core ids are not bounded: Linux's core_id is sparse on many machines (0-27 with gaps on a 14-core die).
 */
export function topologyProblems(topology: Topology, cpuCount: number): TopologyProblem[] {
  const problems: TopologyProblem[] = [];
  if (topology.cpus.length !== cpuCount)
    problems.push({
      path: 'status.topology.cpus',
      message: `lists ${topology.cpus.length} CPUs but the node's status.capacity.cpu is ${cpuCount}`,
    });
  const seen = new Set<number>();
  const numaOfCore = new Map<string, number>();
  topology.cpus.forEach((cpu, index) => {
    if (cpu.id >= cpuCount)
      problems.push({
        path: cpuPath(index, 'id'),
        message: `cpu ${cpu.id} does not exist on a node with ${cpuCount} CPUs (ids 0-${cpuCount - 1})`,
      });
    if (seen.has(cpu.id))
      problems.push({ path: cpuPath(index, 'id'), message: `cpu ${cpu.id} is listed twice` });
    seen.add(cpu.id);
    if (cpu.socket >= cpuCount)
      problems.push({
        path: cpuPath(index, 'socket'),
        message: `socket ${cpu.socket} on a node with ${cpuCount} CPUs (at most ${cpuCount} sockets)`,
      });
    if (cpu.numa >= cpuCount)
      problems.push({
        path: cpuPath(index, 'numa'),
        message: `NUMA node ${cpu.numa} on a node with ${cpuCount} CPUs (at most ${cpuCount} NUMA nodes hold CPUs)`,
      });
    const core = `${cpu.socket}/${cpu.core}`;
    const numa = numaOfCore.get(core);
    if (numa !== undefined && numa !== cpu.numa)
      problems.push({
        path: cpuPath(index, 'numa'),
        message: `cpu ${cpu.id} is on NUMA node ${cpu.numa} while another thread of socket ${cpu.socket} core ${cpu.core} is on ${numa}`,
      });
    numaOfCore.set(core, cpu.numa);
  });
  return problems;
}

/** One warning line for a refused topology: the first problems by field, then how many more. */
export function topologyRefusal(problems: readonly TopologyProblem[]): string {
  const shown = problems.slice(0, 3).map(p => `${p.path}: ${p.message}`);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return `reported topology refused (${shown.join('; ')}${more}); planned as if none were reported (CPUs 0-n-1)`;
}
