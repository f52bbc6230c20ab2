// Plan-level invariants, checked on every plan version a run stored: the plan is valid, its values are within what
// the kernel takes, no exclusive CPU is ever shared (and a reserved CPU only with BE pods), and a pinned pod's CPUs
// never move. Pure functions: each returns the violations it found, so a test can also show they catch a broken
// variant.
import { parseCpuList } from '../../src/api/cpulist.ts';
import { planSpecSchema, type PlanPod, type PlanSpec } from '../../src/api/plan.ts';
import { maxCfsUs } from './kernel-rules.ts';
import type { PlanVersion } from './plan-history.ts';

export type ViolationKind =
  | 'plan-invalid'
  | 'plan-range'
  | 'exclusive-shared'
  | 'reserved-shared'
  | 'pin-moved'
  | 'plan-missing'
  | 'plan-unexpected'
  | 'plan-differs'
  | 'status'
  | 'cgroup-mismatch'
  | 'kernel-exclusive'
  | 'tier'
  | 'kernel-write'
  | 'steady-writes'
  | 'plan-history-gap';

export interface Violation {
  readonly kind: ViolationKind;
  readonly node: string;
  readonly message: string;
}

const pageSize = 4096;

function cpusOf(list: string): Set<number> {
  return new Set(parseCpuList(list));
}

function overlap(a: ReadonlySet<number>, b: ReadonlySet<number>): number[] {
  return [...a].filter(cpu => b.has(cpu));
}

const podName = (pod: PlanPod): string => `${pod.namespace}/${pod.name}`;

/** Exclusive CPUs belong to one pod and neither pool; reserved CPUs to one pod, the BE pool and BE pods only. */
export function sharingProblems(spec: PlanSpec): { kind: ViolationKind; message: string }[] {
  const problems: { kind: ViolationKind; message: string }[] = [];
  const pools = { ls: cpusOf(spec.pools.ls), be: cpusOf(spec.pools.be) };
  for (const owner of spec.pods.filter(p => p.cpu.pinned !== 'shared')) {
    const owned = cpusOf(owner.cpu.cpuset);
    const exclusive = owner.cpu.pinned === 'exclusive';
    const kind: ViolationKind = exclusive ? 'exclusive-shared' : 'reserved-shared';
    for (const other of spec.pods) {
      if (other.uid === owner.uid || (!exclusive && other.qosClass === 'BE')) continue;
      const shared = overlap(owned, cpusOf(other.cpu.cpuset));
      if (shared.length > 0)
        problems.push({
          kind,
          message: `${owner.cpu.pinned} CPUs ${shared.join(',')} of ${podName(owner)} also in ${podName(other)}'s cpuset ${other.cpu.cpuset}`,
        });
    }
    const pooled = [...overlap(owned, pools.ls), ...(exclusive ? overlap(owned, pools.be) : [])];
    if (pooled.length > 0)
      problems.push({
        kind,
        message: `${owner.cpu.pinned} CPUs ${[...new Set(pooled)].join(',')} of ${podName(owner)} are in a shared pool (ls ${spec.pools.ls}, be ${spec.pools.be})`,
      });
  }
  return problems;
}

function memoryProblems(pod: PlanPod): string[] {
  const { minBytes, lowBytes, highBytes, maxBytes } = pod.memory;
  const problems = Object.entries(pod.memory)
    .filter(([, value]) => value !== null && value % pageSize !== 0)
    .map(([knob, value]) => `${knob} ${value} is not page-aligned`);
  const min = minBytes ?? 0;
  const low = lowBytes ?? 0;
  const high = highBytes ?? Infinity;
  const max = maxBytes ?? Infinity;
  if (!(min <= low && low <= high && high <= max))
    problems.push(`memory min ${min} <= low ${low} <= high ${high} <= max ${max} does not hold`);
  return problems;
}

function cpuProblems(pod: PlanPod, cpus: number): string[] {
  const { cfsQuotaUs, cfsPeriodUs, cfsBurstUs, cpuset } = pod.cpu;
  const problems: string[] = [];
  if (cfsQuotaUs !== -1 && (cfsQuotaUs < 1000 || cfsQuotaUs > maxCfsUs))
    problems.push(`quota ${cfsQuotaUs} is neither -1 nor 1000..${maxCfsUs}`);
  if (cfsPeriodUs < 1000 || cfsPeriodUs > 1_000_000) problems.push(`period ${cfsPeriodUs} out of range`);
  if (cfsQuotaUs !== -1 && cfsBurstUs > cfsQuotaUs)
    problems.push(`burst ${cfsBurstUs} > quota ${cfsQuotaUs}`);
  const ids = parseCpuList(cpuset);
  if (ids.length === 0) problems.push('empty cpuset');
  if (ids.some(id => id >= cpus)) problems.push(`cpuset ${cpuset} outside the node's 0..${cpus - 1}`);
  return problems;
}

/** Values the agent would have to write: each must be one the kernel takes as it is. */
export function rangeProblems(spec: PlanSpec, cpus: number): string[] {
  const problems = spec.pods.flatMap(pod =>
    [...cpuProblems(pod, cpus), ...memoryProblems(pod)].map(p => `${podName(pod)}: ${p}`),
  );
  const s = spec.cpuSuppress;
  if (s.floorQuotaUs < 1000 || s.floorQuotaUs > s.ceilingQuotaUs || s.ceilingQuotaUs > maxCfsUs)
    problems.push(`BE tier floor ${s.floorQuotaUs} / ceiling ${s.ceilingQuotaUs} out of order or range`);
  for (const [pool, list] of Object.entries(spec.pools))
    if (parseCpuList(list).some(id => id >= cpus)) problems.push(`pool ${pool} ${list} outside the node`);
  return problems;
}

interface Pin {
  readonly cpuset: string;
  readonly policy: string;
  readonly resourceVersion: number;
}

/** Every recorded version: valid, in range, nothing exclusive shared, and no pinned pod ever moved. */
export function checkPlanVersions(
  versions: readonly PlanVersion[],
  cpusOfNode: (node: string) => number,
): Violation[] {
  const violations: Violation[] = [];
  const pins = new Map<string, Pin>();
  for (const version of versions) {
    const at = `plan ${version.node}@${version.resourceVersion} (by ${version.managers.join('+')})`;
    const parsed = planSpecSchema.safeParse(version.spec);
    if (!parsed.success) {
      violations.push({
        kind: 'plan-invalid',
        node: version.node,
        message: `${at}: ${parsed.error.message}`,
      });
      continue;
    }
    const spec = parsed.data;
    for (const problem of rangeProblems(spec, cpusOfNode(version.node)))
      violations.push({ kind: 'plan-range', node: version.node, message: `${at}: ${problem}` });
    for (const problem of sharingProblems(spec))
      violations.push({ kind: problem.kind, node: version.node, message: `${at}: ${problem.message}` });
    for (const pod of spec.pods.filter(p => p.cpu.pinned !== 'shared')) {
      const key = `${version.node}/${pod.uid}`;
      const before = pins.get(key);
      if (before?.policy === pod.cpu.pinned && before.cpuset !== pod.cpu.cpuset)
        violations.push({
          kind: 'pin-moved',
          node: version.node,
          message: `${at}: ${podName(pod)} moved from CPUs ${before.cpuset} (@${before.resourceVersion}) to ${pod.cpu.cpuset}`,
        });
      pins.set(key, {
        cpuset: pod.cpu.cpuset,
        policy: pod.cpu.pinned,
        resourceVersion: version.resourceVersion,
      });
    }
  }
  return violations;
}
