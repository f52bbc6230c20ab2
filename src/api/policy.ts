// NodeQoSPolicy (nodeqos.io/v1alpha1, cluster-scoped): which nodes get which isolation parameters.
import { z } from 'zod';
import { bandwidthRegex, bandwidthToBits, cpuToMilli, memoryToBytes, quantityRegex } from './quantity.ts';
import { cpuListRegex, parseCpuList } from './cpulist.ts';
import { classDefaults, suppressDefaults, burstDefaults, evictionDefaults } from './defaults.ts';
import { apiVersion, cpusetPolicies, qosClasses, type QoSClass } from './group.ts';
import { conditionsSchema, labelSelectorSchema, objectMetaSchema } from './meta.ts';
import { withRules } from './rules.ts';

const deviceSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^(all|[0-9]+:[0-9]+|\/dev\/[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*)$/,
    'must be "all", MAJ:MIN, or a /dev/ path without ".." segments',
  )
  .describe(
    'Block device: a /dev path (resolved to MAJ:MIN by the agent), MAJ:MIN, or "all" for every disk.',
  );

/**
 * Refinement: the planner can convert the text. Only zod checks this (a policy only the controller can reject,
 * reported in its status): the CRD's regex admits values such as "5-3", "-1" or "0bit" that no node can use.
 */
function convertible(convert: (text: string) => unknown, message: string): Parameters<z.ZodString['refine']> {
  const holds = (text: string): boolean => {
    try {
      convert(text);
      return true;
    } catch {
      return false;
    }
  };
  return [holds, { message, when: payload => payload.issues.length === 0 }];
}

const rateSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

export const blkioThrottleSchema = z.object({
  device: deviceSchema,
  readBps: rateSchema.optional().describe('Read bytes per second; 0 or absent: no limit.'),
  writeBps: rateSchema.optional().describe('Write bytes per second; 0 or absent: no limit.'),
  readIops: rateSchema.optional().describe('Read operations per second; 0 or absent: no limit.'),
  writeIops: rateSchema.optional().describe('Write operations per second; 0 or absent: no limit.'),
});

function classSpecSchema(qosClass: QoSClass): z.ZodType<ClassSpec> {
  const d = classDefaults[qosClass];
  const cpu = z
    .object({
      sharesPerCPU: z
        .int()
        .min(2)
        .max(262144)
        .optional()
        .describe(`cpu.shares per requested CPU (default ${d.sharesPerCPU}); results clamp to [2, 262144].`),
      shares: z
        .int()
        .min(2)
        .max(262144)
        .optional()
        .describe(
          `Fixed cpu.shares for every pod of the class, ignoring requests${d.fixedShares === undefined ? '' : ` (default ${d.fixedShares})`}.`,
        ),
      cpuset: z
        .enum(cpusetPolicies)
        .optional()
        .describe(
          `exclusive: CPUs owned by one pod; reserved: owned by one pod, BE may share them; shared: the pool (default ${d.cpuset}).`,
        ),
    })
    .describe('CPU weight and pinning.');
  const memory = withRules(
    z.object({
      minRatio: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe(`memory.min = request x minRatio (default ${d.minRatio}).`),
      lowRatio: z
        .number()
        .min(0)
        .max(2)
        .optional()
        .describe(`memory.low = request x lowRatio (default ${d.lowRatio}).`),
      highRatio: z
        .number()
        .gt(0)
        .max(1)
        .optional()
        .describe(`memory.high = limit x highRatio (default ${d.highRatio}); no limit means no high.`),
    }),
    [
      {
        rule: `(has(self.minRatio) ? self.minRatio : ${celDouble(d.minRatio)}) <= (has(self.lowRatio) ? self.lowRatio : ${celDouble(d.lowRatio)})`,
        message: `minRatio must be <= lowRatio (defaults for ${qosClass}: ${d.minRatio} and ${d.lowRatio})`,
        fieldPath: '.minRatio',
        holds: self => (self.minRatio ?? d.minRatio) <= (self.lowRatio ?? d.lowRatio),
      },
    ],
  ).describe('Memory protection and throttling (cgroup v2 memory.min/low/high; nearest knobs on v1).');
  return z
    .object({
      cpu: cpu.optional(),
      memory: memory.optional(),
      oomScoreAdj: z
        .int()
        .min(-1000)
        .max(1000)
        .optional()
        .describe(`oom_score_adj for every process of the pod (default ${d.oomScoreAdj}).`),
      blkio: z
        .object({
          weight: z
            .int()
            .min(10)
            .max(1000)
            .optional()
            .describe(`blkio.weight / io.weight source, 10..1000 (default ${d.blkioWeight}).`),
          throttle: z
            .array(blkioThrottleSchema)
            .max(32)
            .optional()
            .describe('Per-device throttles; replaces the class default list when set.'),
        })
        .optional()
        .describe('Block I/O weight and throttles.'),
      net: z
        .object({
          classid: z
            .string()
            .regex(/^0x[0-9a-fA-F]{8}$/, 'must be 0xAAAABBBB (tc class AAAA:BBBB)')
            .optional()
            .describe(`net_cls classid 0xAAAABBBB (default ${d.netClassid}).`),
          priority: z
            .int()
            .min(0)
            .max(7)
            .optional()
            .describe(`HTB priority, 0 is served first (default ${d.netPriority}).`),
          rate: z
            .string()
            .regex(bandwidthRegex, 'must be a tc bandwidth such as 500Mbit')
            .refine(...convertible(bandwidthToBits, 'must be between 1bit and 2^53-1 bits per second'))
            .optional()
            .describe(
              `Guaranteed egress rate, e.g. 500Mbit${d.netRate === undefined ? '' : ` (default ${d.netRate})`}.`,
            ),
          ceil: z
            .string()
            .regex(bandwidthRegex, 'must be a tc bandwidth such as 1Gbit')
            .refine(...convertible(bandwidthToBits, 'must be between 1bit and 2^53-1 bits per second'))
            .optional()
            .describe(
              `Egress ceiling, e.g. 1Gbit${d.netCeil === undefined ? '' : ` (default ${d.netCeil})`}.`,
            ),
        })
        .optional()
        .describe('Egress traffic class for tc (HTB).'),
    })
    .describe(`Parameters for ${qosClass} pods; omitted fields take the defaults.`);
}

export interface ClassSpec {
  cpu?: { sharesPerCPU?: number; shares?: number; cpuset?: (typeof cpusetPolicies)[number] } | undefined;
  memory?: { minRatio?: number; lowRatio?: number; highRatio?: number } | undefined;
  oomScoreAdj?: number | undefined;
  blkio?: { weight?: number; throttle?: z.infer<typeof blkioThrottleSchema>[] } | undefined;
  net?: { classid?: string; priority?: number; rate?: string; ceil?: string } | undefined;
}

export const curvePointSchema = z.object({
  pressure: z.number().min(0).max(100).describe('Node CPU pressure in percent (0-100).'),
  ratio: z
    .number()
    .min(0)
    .max(1)
    .describe('Share of the BE base the BE tier may use at this pressure (0-1).'),
});

export const cpuSuppressSchema = withRules(
  z.object({
    enabled: z.boolean().optional().describe('Run the BE suppress loop (default true).'),
    curve: z
      .array(curvePointSchema)
      .min(1)
      .max(32)
      .optional()
      .describe('Pressure -> ratio points, strictly ascending in pressure; flat beyond the ends.'),
    interpolation: z
      .enum(['linear', 'step'])
      .optional()
      .describe('linear (default): interpolate between points; step: the ratio of the last point passed.'),
    pressureSource: z
      .enum(['utilization', 'psi'])
      .optional()
      .describe('utilization (default): /proc/stat busy share; psi: /proc/pressure/cpu some avg10.'),
    cfsPeriodUs: z
      .int()
      .min(1000)
      .max(1000000)
      .optional()
      .describe('CFS period for the BE tier quota, 1000..1000000 us (default 100000).'),
    floorMilliCPU: z
      .int()
      .min(0)
      .max(1_000_000)
      .optional()
      .describe(
        'The BE tier never gets less than this (default 100m); never below the kernel minimum 1000 us.',
      ),
    intervalMs: z
      .int()
      .min(50)
      .max(10000)
      .optional()
      .describe('How often the agent samples pressure and re-evaluates the quota (default 100).'),
    maxStepUpRatio: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe(
        'Largest quota increase per interval, as a share of the BE base (default 0.1); decreases are immediate.',
      ),
    beIdle: z
      .boolean()
      .optional()
      .describe(
        `cpu.idle=1 (SCHED_IDLE) on the BE tier cgroup where the kernel has it (5.15+, v1 and v2), independent of enabled (default ${suppressDefaults.beIdle}).`,
      ),
  }),
  [
    {
      rule: '!has(self.curve) || (self.curve.map(p, p.pressure).isSorted() && self.curve.all(a, self.curve.exists_one(b, b.pressure == a.pressure)))',
      message: 'curve points must be in strictly ascending pressure order',
      fieldPath: '.curve',
      holds: self => isStrictlyAscending((self.curve ?? []).map(p => p.pressure)),
    },
  ],
).describe('Dynamic CFS quota for the BE tier driven by node CPU pressure.');

/** A CEL double literal (CEL keeps 1 and 1.0 apart). */
function celDouble(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

function isStrictlyAscending(values: readonly number[]): boolean {
  return values.every((value, index) => index === 0 || value > (values[index - 1] ?? -Infinity));
}

const evictionMemoryDefaults = evictionDefaults.memory;
const evictionCpuDefaults = evictionDefaults.cpu;

export const memoryEvictionSchema = withRules(
  z.object({
    enabled: z
      .boolean()
      .optional()
      .describe(
        `Evict BE pods when node memory passes thresholdPercent (default ${evictionMemoryDefaults.enabled}).`,
      ),
    thresholdPercent: z
      .int()
      .min(1)
      .max(99)
      .optional()
      .describe(
        `Node working set (usage - inactive file) as a percent of node memory that starts a round (default ${evictionMemoryDefaults.thresholdPercent}).`,
      ),
    lowerPercent: z
      .int()
      .min(0)
      .max(98)
      .optional()
      .describe(
        `A round evicts until the working set is expected below this percent (default thresholdPercent - ${evictionMemoryDefaults.lowerPercentBelowThreshold}).`,
      ),
    minReclaim: z
      .string()
      .regex(quantityRegex, 'must be a quantity such as 256Mi')
      .refine(...convertible(memoryToBytes, 'must be a non-negative memory quantity below 2^53 bytes'))
      .optional()
      .describe(
        `A round releases at least this much memory, whatever the lower bound asks (default ${evictionMemoryDefaults.minReclaim}).`,
      ),
    coolDownSeconds: z
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe(
        `No new round, and no retry of a pod a PodDisruptionBudget protected, until this long after the last eviction (default ${evictionMemoryDefaults.coolDownSeconds}).`,
      ),
    intervalSeconds: z
      .int()
      .min(1)
      .max(60)
      .optional()
      .describe(
        `How often the agent samples node memory (default ${evictionMemoryDefaults.intervalSeconds}).`,
      ),
  }),
  [
    {
      rule: `(has(self.lowerPercent) ? self.lowerPercent : (has(self.thresholdPercent) ? self.thresholdPercent : ${evictionMemoryDefaults.thresholdPercent}) - ${evictionMemoryDefaults.lowerPercentBelowThreshold}) < (has(self.thresholdPercent) ? self.thresholdPercent : ${evictionMemoryDefaults.thresholdPercent})`,
      message: `lowerPercent must be below thresholdPercent (default ${evictionMemoryDefaults.thresholdPercent})`,
      fieldPath: '.lowerPercent',
      holds: self => {
        const threshold = self.thresholdPercent ?? evictionMemoryDefaults.thresholdPercent;
        return (
          (self.lowerPercent ?? threshold - evictionMemoryDefaults.lowerPercentBelowThreshold) < threshold
        );
      },
    },
  ],
).describe('BE memory eviction, ahead of kubelet: only BE pods, through the Eviction API.');

export const cpuEvictionSchema = withRules(
  z.object({
    enabled: z
      .boolean()
      .optional()
      .describe(`Evict BE pods the BE tier starves of CPU (default ${evictionCpuDefaults.enabled}).`),
    satisfactionLowerPercent: z
      .int()
      .min(1)
      .max(60)
      .optional()
      .describe(
        `Satisfaction = BE tier real limit / sum of BE CPU requests; at or below this over the window, BE is starved (default ${evictionCpuDefaults.satisfactionLowerPercent}).`,
      ),
    satisfactionUpperPercent: z
      .int()
      .min(1)
      .max(99)
      .optional()
      .describe(
        `A round evicts requests until satisfaction would reach this (default ${evictionCpuDefaults.satisfactionUpperPercent}).`,
      ),
    usageThresholdPercent: z
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe(
        `BE pods want more only when their usage is at least this percent of the real limit (default ${evictionCpuDefaults.usageThresholdPercent}).`,
      ),
    windowSeconds: z
      .int()
      .min(10)
      .max(3600)
      .optional()
      .describe(
        `Starvation must hold, on average and in the last sample, over this window (default ${evictionCpuDefaults.windowSeconds}).`,
      ),
    coolDownSeconds: z
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe(`Time between CPU eviction rounds (default ${evictionCpuDefaults.coolDownSeconds}).`),
  }),
  [
    {
      rule: `(has(self.satisfactionLowerPercent) ? self.satisfactionLowerPercent : ${evictionCpuDefaults.satisfactionLowerPercent}) < (has(self.satisfactionUpperPercent) ? self.satisfactionUpperPercent : ${evictionCpuDefaults.satisfactionUpperPercent})`,
      message: `satisfactionLowerPercent must be below satisfactionUpperPercent (defaults ${evictionCpuDefaults.satisfactionLowerPercent} and ${evictionCpuDefaults.satisfactionUpperPercent})`,
      fieldPath: '.satisfactionUpperPercent',
      holds: self =>
        (self.satisfactionLowerPercent ?? evictionCpuDefaults.satisfactionLowerPercent) <
        (self.satisfactionUpperPercent ?? evictionCpuDefaults.satisfactionUpperPercent),
    },
  ],
).describe('BE CPU-starvation eviction: the BE tier held near its floor while BE pods want more.');

export const evictionSchema = z
  .object({
    priorityThreshold: z
      .int()
      .min(-2147483648)
      .max(2147483647)
      .optional()
      .describe(
        `Pods whose spec.priority is above this are never evicted (default ${evictionDefaults.priorityThreshold}).`,
      ),
    conditionTransitionSeconds: z
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe(
        `BEMemoryPressure / BECPUStarved stay True this long after the pressure was last seen (default ${evictionDefaults.conditionTransitionSeconds}).`,
      ),
    taint: z
      .boolean()
      .optional()
      .describe(
        `While BEMemoryPressure or BECPUStarved is True, taint the node nodeqos.io/be-pressure:NoSchedule so the scheduler sends no more pods without the toleration; give it to every non-BE workload (default ${evictionDefaults.taint}).`,
      ),
    memory: memoryEvictionSchema.optional(),
    cpu: cpuEvictionSchema.optional(),
  })
  .describe('Evicting BE pods before kubelet evicts by its own rules (docs/agent.md, "BE eviction").');

export const policySpecSchema = z
  .object({
    nodeSelector: labelSelectorSchema.optional(),
    priority: z
      .int()
      .min(-1_000_000)
      .max(1_000_000)
      .optional()
      .describe(
        'When several policies match a node the highest priority wins; ties go to the smallest name.',
      ),
    classes: z
      .object(
        Object.fromEntries(qosClasses.map(c => [c, classSpecSchema(c).optional()])) as Record<
          QoSClass,
          z.ZodOptional<z.ZodType<ClassSpec>>
        >,
      )
      .optional()
      .describe('Per-QoS-class parameters (LSE, LSR, LS, BE).'),
    cpuSuppress: cpuSuppressSchema.optional(),
    cpuBurst: z
      .object({
        enabled: z
          .boolean()
          .optional()
          .describe(`Allow LS pods to burst above their quota (default ${burstDefaults.enabled}).`),
        burstPercent: z
          .int()
          .min(0)
          .max(100)
          .optional()
          .describe(
            `cfs_burst_us = quota x burstPercent / 100 (default ${burstDefaults.burstPercent}); the kernel caps burst at quota.`,
          ),
      })
      .optional()
      .describe('CPU burst (cpu.cfs_burst_us / cpu.max.burst) for LS pods with a CPU limit.'),
    eviction: evictionSchema.optional(),
    systemReserved: z
      .object({
        cpu: z
          .string()
          .regex(quantityRegex, 'must be a quantity such as 500m')
          .refine(...convertible(cpuToMilli, 'must be a non-negative CPU quantity below 2^53 millicores'))
          .optional()
          .describe('CPU kept for the system.'),
        memory: z
          .string()
          .regex(quantityRegex, 'must be a quantity such as 1Gi')
          .refine(...convertible(memoryToBytes, 'must be a non-negative memory quantity below 2^53 bytes'))
          .optional()
          .describe('Memory kept for the system.'),
        cpus: z
          .string()
          .max(1024)
          .regex(cpuListRegex, 'must be a cpu list such as 0-1')
          .refine(...convertible(parseCpuList, 'must list CPU ids 0..8191 in ascending ranges'))
          .optional()
          .describe('CPUs kept for system daemons: never pinned, left out of the LS pool.'),
      })
      .optional()
      .describe("Overrides the node's capacity - allocatable as the system reservation."),
  })
  .describe('Isolation parameters and the nodes they apply to.');

export type PolicySpec = z.infer<typeof policySpecSchema>;

export const policyStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('The generation the controller last acted on.'),
    matchedNodes: z.int().min(0).optional().describe('Nodes this policy selects and wins.'),
    conditions: conditionsSchema.optional().describe('Ready and Conflict conditions.'),
  })
  .describe('What the controller did with the policy.');

export const policySchema = z.object({
  apiVersion: z.literal(apiVersion),
  kind: z.literal('NodeQoSPolicy'),
  metadata: objectMetaSchema,
  spec: policySpecSchema,
  status: policyStatusSchema.optional(),
});

export type NodeQoSPolicy = z.infer<typeof policySchema>;

export { suppressDefaults };
