// What every plan the planner produces must hold, as a list of violations (empty = fine): the schema, the
// kernel's ranges for each knob, memory ordering, and cpusets inside the node's topology.
import { parseCpuList } from '../../../src/api/cpulist.ts';
import { planSchema, type PlanPod } from '../../../src/api/plan.ts';
import type { Topology } from '../../../src/api/topology.ts';

/** max_cfs_runtime: the largest CFS quota (and burst) the kernel accepts, in microseconds. */
export const kernelMaxQuotaUs = 2 ** 44 - 1;
export const pageSize = 4096;

function inRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function cpuViolations(pod: PlanPod, cpus: ReadonlySet<number>): string[] {
  const { shares, cfsQuotaUs, cfsPeriodUs, cfsBurstUs, cpuset } = pod.cpu;
  const out: string[] = [];
  if (!inRange(shares, 2, 262144)) out.push(`cpu.shares ${shares} outside 2..262144`);
  if (cfsQuotaUs !== -1 && !inRange(cfsQuotaUs, 1000, kernelMaxQuotaUs))
    out.push(`cfs quota ${cfsQuotaUs} is neither -1 nor 1000..2^44-1`);
  if (!inRange(cfsPeriodUs, 1000, 1_000_000)) out.push(`cfs period ${cfsPeriodUs} outside 1000..1000000`);
  if (!inRange(cfsBurstUs, 0, cfsQuotaUs === -1 ? 0 : cfsQuotaUs))
    out.push(`cfs burst ${cfsBurstUs} above quota ${cfsQuotaUs}`);
  let ids: number[] = [];
  try {
    ids = parseCpuList(cpuset);
  } catch (error) {
    out.push(`cpuset "${cpuset.slice(0, 40)}" does not parse: ${(error as Error).message}`);
  }
  if (ids.length === 0) out.push('cpuset is empty');
  const outside = ids.filter(id => !cpus.has(id));
  if (outside.length > 0) out.push(`cpuset has CPUs outside the topology: ${outside.slice(0, 5).join(',')}`);
  return out;
}

function memoryViolations(pod: PlanPod): string[] {
  const { minBytes, lowBytes, highBytes, maxBytes } = pod.memory;
  const out: string[] = [];
  for (const [name, value] of Object.entries(pod.memory)) {
    if (value === null) continue;
    if (!inRange(value, 0, Number.MAX_SAFE_INTEGER)) out.push(`memory.${name} ${value} out of range`);
    else if (value % pageSize !== 0) out.push(`memory.${name} ${value} is not page-aligned`);
  }
  const min = minBytes ?? 0;
  const low = lowBytes ?? 0;
  const high = highBytes ?? Number.POSITIVE_INFINITY;
  const max = maxBytes ?? Number.POSITIVE_INFINITY;
  if (!(min <= low && low <= high && high <= max))
    out.push(`memory order broken: min ${min} low ${low} high ${high} max ${max}`);
  return out;
}

export function podViolations(pod: PlanPod, cpus: ReadonlySet<number>): string[] {
  const out = [...cpuViolations(pod, cpus), ...memoryViolations(pod)];
  if (!inRange(pod.oomScoreAdj, -1000, 1000))
    out.push(`oom_score_adj ${pod.oomScoreAdj} outside -1000..1000`);
  if (!inRange(pod.blkio.weight, 10, 1000)) out.push(`blkio weight ${pod.blkio.weight} outside 10..1000`);
  return out.map(message => `pod ${pod.namespace}/${pod.name}: ${message}`);
}

interface Pools {
  readonly ls: ReadonlySet<number>;
  readonly be: ReadonlySet<number>;
  /** The planner said a pool fell back to shared CPUs (kept pins hold every CPU): overlap is then expected. */
  readonly lsShared: boolean;
  readonly beShared: boolean;
}

function pinViolations(pods: readonly PlanPod[], { ls, be, lsShared, beShared }: Pools): string[] {
  const owner = new Map<number, string>();
  const out: string[] = [];
  for (const pod of pods) {
    if (pod.cpu.pinned === 'shared') continue;
    for (const cpu of parseCpuList(pod.cpu.cpuset)) {
      const other = owner.get(cpu);
      if (other !== undefined) out.push(`cpu ${cpu} pinned to ${other} and ${pod.name}`);
      owner.set(cpu, pod.name);
      if (ls.has(cpu) && !lsShared) out.push(`pinned cpu ${cpu} of ${pod.name} is in the LS pool`);
      if (pod.cpu.pinned === 'exclusive' && be.has(cpu) && !beShared)
        out.push(`exclusive cpu ${cpu} of ${pod.name} is in the BE pool`);
    }
  }
  return out;
}

/** Every way `plan` breaks the schema, a kernel range or the topology. */
export function planViolations(plan: unknown, topology: Topology): string[] {
  const parsed = planSchema.safeParse(plan);
  if (!parsed.success)
    return parsed.error.issues.map(i => `schema: ${i.path.join('.')}: ${i.message}`.slice(0, 300));
  const spec = parsed.data.spec;
  const cpus = new Set(topology.cpus.map(c => c.id));
  const out = spec.pods.flatMap(pod => podViolations(pod, cpus));
  const pools = { ls: parseCpuList(spec.pools.ls), be: parseCpuList(spec.pools.be) };
  for (const [name, ids] of Object.entries(pools))
    if (ids.some(id => !cpus.has(id))) out.push(`${name} pool has CPUs outside the topology`);
  if (out.length > 0) return out;
  const warned = (text: string): boolean => spec.warnings.some(w => w.message.startsWith(text));
  out.push(
    ...pinViolations(spec.pods, {
      ls: new Set(pools.ls),
      be: new Set(pools.be),
      lsShared: warned('the LS pool is empty'),
      beShared: warned('the BE pool is empty'),
    }),
  );
  const s = spec.cpuSuppress;
  if (!inRange(s.cfsPeriodUs, 1000, 1_000_000)) out.push(`suppress period ${s.cfsPeriodUs} out of range`);
  if (!inRange(s.floorQuotaUs, 1000, kernelMaxQuotaUs))
    out.push(`suppress floor ${s.floorQuotaUs} out of range`);
  if (!inRange(s.ceilingQuotaUs, s.floorQuotaUs, kernelMaxQuotaUs))
    out.push(`suppress ceiling ${s.ceilingQuotaUs} out of range`);
  return out;
}

/** Throws with every violation spelled out (vitest's diff of a long array hides them). */
export function assertPlanInRange(plan: unknown, topology: Topology): void {
  const violations = planViolations(plan, topology);
  if (violations.length > 0) throw new Error(`plan violates:\n${violations.slice(0, 20).join('\n')}`);
}
