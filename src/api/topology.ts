// CPU topology: what the agent reports in plan status and what `nodeqos plan --topology` reads.
import { z } from 'zod';
import { maxCpuId } from './cpulist.ts';

const id = z.int().min(0).max(maxCpuId);

export const topologySchema = z
  .object({
    cpus: z
      .array(z.object({ id, core: id, socket: z.int().min(0).max(255), numa: z.int().min(0).max(255) }))
      .min(1)
      .max(maxCpuId + 1),
  })
  .superRefine((topology, ctx) => {
    const seen = new Set<number>();
    topology.cpus.forEach((cpu, index) => {
      if (seen.has(cpu.id))
        ctx.addIssue({
          code: 'custom',
          message: `cpu ${cpu.id} is listed twice`,
          path: ['cpus', index, 'id'],
        });
      seen.add(cpu.id);
    });
  });

export type Topology = z.infer<typeof topologySchema>;
export type TopologyCpu = Topology['cpus'][number];

/** Without a reported topology: CPUs 0..n-1, one NUMA node, one thread per core. */
export function flatTopology(cpuCount: number): Topology {
  return { cpus: Array.from({ length: cpuCount }, (_, i) => ({ id: i, core: i, socket: 0, numa: 0 })) };
}
