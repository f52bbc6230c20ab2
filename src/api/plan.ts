// NodeIsolationPlan (nodeqos.io/v1alpha1, cluster-scoped, name = node name): what one node must enforce.
import { z } from 'zod';
import { cpuListRegex, parseCpuList } from './cpulist.ts';
import { apiVersion, cpusetPolicies, kubeQoSClasses, qosClasses } from './group.ts';
import { conditionsSchema, objectMetaSchema } from './meta.ts';
import { blkioThrottleSchema, curvePointSchema } from './policy.ts';
import { withRules } from './rules.ts';
import { topologySchema } from './topology.ts';

/** The regex admits "5-3" and "9000", which no kernel takes: the list must parse too, else the plan is refused. */
function parsesAsCpuList(text: string): boolean {
  try {
    parseCpuList(text);
    return true;
  } catch {
    return false;
  }
}

const cpuList = z
  .string()
  .max(4096)
  .regex(cpuListRegex, 'must be a canonical cpu list such as 0-3,8')
  .refine(parsesAsCpuList, {
    message: 'must list CPU ids 0..8191 in ascending ranges',
    when: payload => payload.issues.length === 0,
  });
const bytes = z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable();
const uidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const planPodSchema = z.object({
  uid: z
    .string()
    .regex(uidPattern, 'must be a pod UID (8-4-4-4-12 hex)')
    .describe('Pod UID; locates its cgroup.'),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
  qosClass: z.enum(qosClasses).describe('nodeqos class.'),
  kubeQoS: z.enum(kubeQoSClasses).describe('Kubernetes QoS class; picks the kubepods sub-tree.'),
  cpu: withRules(
    z.object({
      shares: z.int().min(2).max(262144).describe('cpu.shares (cgroup v2: converted to cpu.weight).'),
      cfsQuotaUs: z.int().min(-1).max(Number.MAX_SAFE_INTEGER).describe('Pod CFS quota; -1 is unlimited.'),
      cfsPeriodUs: z.int().min(1000).max(1000000),
      cfsBurstUs: z
        .int()
        .min(0)
        .max(Number.MAX_SAFE_INTEGER)
        .describe('CPU burst; 0 is off; never above quota.'),
      cpuset: cpuList.describe('The CPUs the pod runs on: its own CPUs when pinned, else its pool.'),
      pinned: z
        .enum(cpusetPolicies)
        .describe('exclusive/reserved when the pod owns its CPUs, shared otherwise.'),
    }),
    [
      {
        // The kernel refuses burst above quota; the agent must never have to pick a value of its own.
        rule: 'self.cfsQuotaUs == -1 ? self.cfsBurstUs == 0 : self.cfsBurstUs <= self.cfsQuotaUs',
        message: 'cfsBurstUs must be <= cfsQuotaUs, and 0 when the quota is unlimited (-1)',
        fieldPath: '.cfsBurstUs',
        holds: cpu => (cpu.cfsQuotaUs === -1 ? cpu.cfsBurstUs === 0 : cpu.cfsBurstUs <= cpu.cfsQuotaUs),
      },
    ],
  ),
  memory: z.object({
    minBytes: bytes.describe('memory.min; null means 0.'),
    lowBytes: bytes.describe('memory.low; null means 0.'),
    highBytes: bytes.describe('memory.high; null means unlimited.'),
    maxBytes: bytes.describe('memory.max / limit_in_bytes; null means unlimited.'),
  }),
  oomScoreAdj: z.int().min(-1000).max(1000),
  blkio: z.object({
    weight: z.int().min(10).max(1000),
    throttle: z.array(blkioThrottleSchema).max(32),
  }),
  net: z.object({
    classid: z.string().regex(/^0x[0-9a-fA-F]{8}$/),
    priority: z.int().min(0).max(7),
  }),
});

export type PlanPod = z.infer<typeof planPodSchema>;

export const planNetClassSchema = z.object({
  qosClass: z.enum(qosClasses),
  classid: z.string().regex(/^0x[0-9a-fA-F]{8}$/),
  priority: z.int().min(0).max(7),
  rateBitsPerSec: z
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .nullable()
    .describe('HTB rate; null: share of the link.'),
  ceilBitsPerSec: z
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .nullable()
    .describe('HTB ceil; null: the link.'),
});

export const planCpuSuppressSchema = z.object({
  enabled: z.boolean(),
  baseMilliCPU: z.int().min(0).describe('capacity - non-BE requests - system reserved, in millicores.'),
  cfsPeriodUs: z.int().min(1000).max(1000000),
  floorQuotaUs: z.int().min(1000).describe('The BE tier quota never goes below this.'),
  ceilingQuotaUs: z.int().min(1000).describe('The BE tier quota at ratio 1.'),
  curve: z.array(curvePointSchema).min(1).max(32),
  interpolation: z.enum(['linear', 'step']),
  pressureSource: z.enum(['utilization', 'psi']),
  intervalMs: z.int().min(50).max(10000),
  maxStepUpQuotaUs: z.int().min(1).describe('Largest quota increase per interval.'),
  deadbandQuotaUs: z
    .int()
    .min(0)
    .describe('Changes smaller than this are not written (1% of node capacity).'),
  beIdle: z
    .boolean()
    .optional()
    .describe('cpu.idle=1 on the BE tier cgroup (SCHED_IDLE); absent (plans of older controllers): off.'),
  evaluatedPressure: z.number().min(0).max(100).optional(),
  quotaAtPressure: z
    .int()
    .min(1000)
    .optional()
    .describe('The quota at evaluatedPressure (from `nodeqos plan --pressure`).'),
});

const percent = z.int().min(0).max(100);

export const planEvictionSchema = z
  .object({
    priorityThreshold: z
      .int()
      .min(-2147483648)
      .max(2147483647)
      .describe('Pods above this priority are never evicted.'),
    conditionTransitionSeconds: z.int().min(0).max(3600),
    taint: z
      .boolean()
      .optional()
      .describe('Taint nodeqos.io/be-pressure:NoSchedule while a BE condition is True; absent: off.'),
    memory: z.object({
      enabled: z.boolean(),
      thresholdPercent: percent,
      lowerPercent: percent,
      minReclaimBytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
      coolDownSeconds: z.int().min(1).max(3600),
      intervalSeconds: z.int().min(1).max(60),
    }),
    cpu: z.object({
      enabled: z.boolean(),
      satisfactionLowerPercent: percent,
      satisfactionUpperPercent: percent,
      usageThresholdPercent: percent,
      windowSeconds: z.int().min(10).max(3600),
      coolDownSeconds: z.int().min(1).max(3600),
    }),
  })
  .describe('BE eviction settings, every default filled in.');

export type PlanEviction = z.infer<typeof planEvictionSchema>;

export const planWarningSchema = z.object({
  pod: z.string().max(320).optional().describe('namespace/name of the pod concerned, if any.'),
  message: z.string().max(1024),
});

export const planSpecSchema = z.object({
  nodeName: z.string().min(1).max(253),
  policyName: z.string().min(1).max(253),
  policyGeneration: z.int().min(0).optional(),
  nodeCapacityMilliCPU: z.int().min(0),
  podCount: z.int().min(0).describe('Number of pods in the plan (for kubectl get).'),
  cpuSuppress: planCpuSuppressSchema,
  cpuBurst: z.object({ enabled: z.boolean(), burstPercent: z.int().min(0).max(100) }),
  eviction: planEvictionSchema
    .optional()
    .describe('BE eviction; absent (plans of older controllers): no eviction.'),
  pools: z.object({
    ls: cpuList.describe('CPUs of the LS pool: all - exclusive - reserved - system CPUs.'),
    be: cpuList.describe('CPUs of the BE pool: all - exclusive.'),
  }),
  classDefaults: z
    .array(
      z.object({
        qosClass: z.enum(qosClasses),
        sharesPerCPU: z.int().min(2).max(262144),
        fixedShares: z.int().min(2).max(262144).nullable(),
        oomScoreAdj: z.int().min(-1000).max(1000),
        blkioWeight: z.int().min(10).max(1000),
        netClassid: z.string().regex(/^0x[0-9a-fA-F]{8}$/),
        netPriority: z.int().min(0).max(7),
      }),
    )
    .max(4)
    .describe('Per-class values the agent gives a pod it sees before the controller plans it.'),
  net: z.object({ classes: z.array(planNetClassSchema).max(4) }),
  pods: z
    .array(planPodSchema)
    .max(1024)
    .superRefine((pods, ctx) => {
      // One pod listed twice with different values would make the agent flip between them on every pass. Only zod
      // checks it (controller, agent, validate): `x-kubernetes-list-type: map` would let server-side apply reorder
      // the list (the controller would see a changed spec on every pass), and a pairwise CEL rule over 1024 pods is
      // past the API server's cost budget.
      const seen = new Map<string, number>();
      pods.forEach((pod, index) => {
        const uid = pod.uid.toLowerCase();
        const first = seen.get(uid);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            message: `uid ${pod.uid} is listed twice (also pods[${first}])`,
            path: [index, 'uid'],
          });
        else seen.set(uid, index);
      });
    })
    .describe('One entry per pod; a uid appears once.'),
  warnings: z.array(planWarningSchema).max(2048),
});

export type PlanSpec = z.infer<typeof planSpecSchema>;

export const evictionRoundSchema = z
  .object({
    time: z.string().max(64),
    resource: z.enum(['memory', 'cpu']),
    reason: z.string().max(1024).describe('The signal against its threshold, in words.'),
    observedPercent: z.number().min(0).max(1000),
    thresholdPercent: z.number().min(0).max(100),
    target: z.int().min(0).describe('What the round set out to release: bytes (memory) or millicores (cpu).'),
    evicted: z
      .array(z.string().max(320))
      .max(64)
      .describe('namespace/name of each pod the API server let go.'),
    refused: z
      .array(z.object({ pod: z.string().max(320), reason: z.string().max(1024) }))
      .max(64)
      .describe('Pods the API server refused to evict (a PodDisruptionBudget), retried after the cool-down.'),
  })
  .describe('The last round in which the agent tried to evict a BE pod.');

export type EvictionRound = z.infer<typeof evictionRoundSchema>;

export const planStatusSchema = z.object({
  appliedGeneration: z.int().min(0).optional().describe('The plan generation the agent last applied.'),
  conditions: conditionsSchema.optional().describe('Applied and Degraded.'),
  topology: topologySchema.optional().describe('CPU topology the agent discovered.'),
  pressure: z.number().min(0).max(100).optional().describe('Last sampled CPU pressure (percent).'),
  beQuotaUs: z.int().min(-1).optional().describe('BE tier quota currently written.'),
  suppressRatio: z.number().min(0).max(1).optional(),
  podFailures: z
    .array(z.object({ pod: z.string().max(320), knob: z.string().max(128), message: z.string().max(1024) }))
    .max(256)
    .optional(),
  unsupported: z.array(z.string().max(256)).max(64).optional().describe('Knobs the node cannot enforce.'),
  lastAppliedTime: z.string().max(64).optional(),
  memoryWorkingSetPercent: z
    .number()
    .min(0)
    .max(1000)
    .optional()
    .describe('Last sampled node working set, percent of node memory (when memory eviction is on).'),
  lastEvictionRound: evictionRoundSchema.optional(),
});

export const planSchema = z.object({
  apiVersion: z.literal(apiVersion),
  kind: z.literal('NodeIsolationPlan'),
  metadata: objectMetaSchema,
  spec: planSpecSchema,
  status: planStatusSchema.optional(),
});

export type NodeIsolationPlan = z.infer<typeof planSchema>;
