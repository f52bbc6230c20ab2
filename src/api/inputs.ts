// The parts of core/v1 Pod and Node the planner reads. Unknown fields are dropped on parse, which is also
// the transform that keeps a large informer cache small.
import { z } from 'zod';
import { objectNameSchema } from './meta.ts';

const quantity = z.union([z.string().max(64), z.number()]);
const resourceList = z.record(z.string().max(253), quantity);

const containerSchema = z.object({
  name: z.string().max(253),
  resources: z.object({ requests: resourceList.optional(), limits: resourceList.optional() }).optional(),
});

export const podSchema = z.object({
  metadata: z.object({
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(63).default('default'),
    uid: z.string().max(128).default(''),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.string().max(64).optional(),
  }),
  spec: z.object({
    nodeName: z.string().max(253).optional(),
    // The eviction ranking reads it (the API server fills it from the PriorityClass; absent counts as 0).
    priority: z.int().min(-2147483648).max(2147483647).optional(),
    containers: z.array(containerSchema).max(256),
    initContainers: z
      .array(containerSchema.extend({ restartPolicy: z.string().max(32).optional() }))
      .max(256)
      .optional(),
    overhead: resourceList.optional(),
  }),
  status: z
    .object({
      phase: z.string().max(32).optional(),
      qosClass: z.enum(['Guaranteed', 'Burstable', 'BestEffort']).optional(),
    })
    .optional(),
});

export type Pod = z.infer<typeof podSchema>;

export const nodeSchema = z.object({
  metadata: z.object({
    // The API server only admits DNS-subdomain node names; the plan is named after the node, so the same rule.
    name: objectNameSchema,
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  status: z.object({
    capacity: resourceList.optional(),
    allocatable: resourceList.optional(),
  }),
});

export type Node = z.infer<typeof nodeSchema>;
