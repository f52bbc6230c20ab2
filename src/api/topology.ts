// CPU topology: what the agent reports in plan status and what `nodeqos plan --topology` reads.
import { z } from 'zod';
import { maxCpuId } from './cpulist.ts';

const id = z.int().min(0).max(maxCpuId);

export const topologySchema = z
  .object({
    cpus: z
      .array(
        z.object({
          id,
          core: id,
          socket: z.int().min(0).max(255),
          numa: z.int().min(0).max(255),
          l3: z
            .int()
            .min(0)
            .max(1_000_000)
            .optional()
            .describe('Last-level (L3) cache id, /sys/devices/system/cpu/cpuN/cache/index3/id.'),
        }),
      )
      .min(1)
      .max(maxCpuId + 1),
  })
  .superRefine((topology, ctx) => {
    const seen = new Set<number>();
    const withL3 = topology.cpus.filter(cpu => cpu.l3 !== undefined).length;
    topology.cpus.forEach((cpu, index) => {
      if (seen.has(cpu.id))
        ctx.addIssue({
          code: 'custom',
          message: `cpu ${cpu.id} is listed twice`,
          path: ['cpus', index, 'id'],
        });
      seen.add(cpu.id);
      // Half a cache map would make the picker prefer groups it cannot see whole: all CPUs or none.
      if (withL3 > 0 && cpu.l3 === undefined)
        ctx.addIssue({
          code: 'custom',
          message: `cpu ${cpu.id} has no l3 while ${withL3} other CPUs have one; give every CPU an l3 or none`,
          path: ['cpus', index, 'l3'],
        });
    });
  });

export type Topology = z.infer<typeof topologySchema>;
export type TopologyCpu = Topology['cpus'][number];

/** Without a reported topology: CPUs 0..n-1, one NUMA node, one thread per core. */
export function flatTopology(cpuCount: number): Topology {
  return { cpus: Array.from({ length: cpuCount }, (_, i) => ({ id: i, core: i, socket: 0, numa: 0 })) };
}
