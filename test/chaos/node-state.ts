// What a simulated node's files hold, compared with its plan: every pod's cpu.weight (shares through the agent's
// conversion), cpu.max (the pod's quota, capped by the BE tier for BE pods), cpu.max.burst, cpuset.cpus (pod and
// containers), memory.min/low/high/max, io.weight, io.max and every process's oom_score_adj; the BE tier quota
// within the plan's floor and ceiling; and no CPU of an exclusive pod in any other pod's effective cpuset.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCpuList } from '../../src/api/cpulist.ts';
import type { KubeQoS } from '../../src/api/group.ts';
import type { NodeIsolationPlan, PlanPod } from '../../src/api/plan.ts';
import type { CpuMax } from '../../src/agent/mechanisms/core/codecs.ts';
import { blkioWeightToIoWeight, sharesToWeight } from '../../src/agent/mechanisms/core/conversions.ts';
import { effectiveQuota } from '../../src/agent/mechanisms/cpu/knobs.ts';
import type { SimulatedNode } from '../../src/demo/simulated-node.ts';
import { parseCpuMax, parseIdList, type KernelLimits } from './kernel-rules.ts';

/** The simulated node's only disk (createSimulatedNode: /sys/block/vda/dev). */
const simDisk = '254:0';

export function podCgroupDir(sim: SimulatedNode, uid: string, kubeQoS: KubeQoS): string {
  const tier = kubeQoS === 'Guaranteed' ? [] : [kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'];
  return join(sim.cgroupRoot, 'kubepods', ...tier, `pod${uid}`);
}

async function read(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function subdirs(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true })).filter(e => e.isDirectory()).map(e => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function canonicalCpus(text: string, limits: KernelLimits): string {
  const ids = parseIdList(text, limits.cpus, 'cpuset.cpus');
  return typeof ids === 'string' ? `invalid(${text})` : formatCpuList(ids);
}

/** The BE tier quota the besteffort directory holds (null: unlimited), as the agent's executor reads it. */
export async function tierQuota(sim: SimulatedNode): Promise<CpuMax | null | string> {
  const parsed = parseCpuMax(await sim.readTierQuota());
  if (typeof parsed === 'string') return parsed;
  return parsed.quotaUs === -1 ? null : parsed;
}

function cpuMaxText(value: CpuMax): string {
  return `${value.quotaUs === -1 ? 'max' : value.quotaUs} ${value.periodUs}`;
}

function expectedPodFiles(pod: PlanPod, tier: CpuMax | null): Record<string, string> {
  const quota = effectiveQuota(pod, tier);
  const burst = quota.quotaUs === -1 ? pod.cpu.cfsBurstUs : Math.min(pod.cpu.cfsBurstUs, quota.quotaUs);
  const bytes = (value: number | null, unset: string): string => (value === null ? unset : String(value));
  return {
    'cpu.weight': String(sharesToWeight(pod.cpu.shares)),
    'cpu.max': cpuMaxText(quota),
    'cpu.max.burst': String(burst),
    'memory.min': bytes(pod.memory.minBytes, '0'),
    'memory.low': bytes(pod.memory.lowBytes, '0'),
    'memory.high': bytes(pod.memory.highBytes, 'max'),
    'memory.max': bytes(pod.memory.maxBytes, 'max'),
    'io.weight': `default ${blkioWeightToIoWeight(pod.blkio.weight)}`,
  };
}

type IoLimits = Record<'rbps' | 'wbps' | 'riops' | 'wiops', string>;
const unlimited: IoLimits = { rbps: 'max', wbps: 'max', riops: 'max', wiops: 'max' };

function ioLimitsIn(content: string, device: string): IoLimits {
  const line = content.split('\n').find(l => l.startsWith(`${device} `));
  const limits = { ...unlimited };
  for (const pair of line?.split(' ').slice(1) ?? []) {
    const [key, value] = pair.split('=');
    if (key !== undefined && key in limits && value !== undefined) limits[key as keyof IoLimits] = value;
  }
  return limits;
}

const ruleKeys = { rbps: 'readBps', wbps: 'writeBps', riops: 'readIops', wiops: 'writeIops' } as const;

/** Rules for the disk apply in order; a later rule's non-zero rates override earlier ones (docs/agent.md). */
function expectedIoLimits(pod: PlanPod): IoLimits {
  const limits = { ...unlimited };
  const rules = pod.blkio.throttle.filter(r => ['all', simDisk, '/dev/vda'].includes(r.device));
  for (const rule of rules)
    for (const [key, field] of Object.entries(ruleKeys) as [keyof IoLimits, keyof typeof rule][]) {
      const rate = Number(rule[field] ?? 0);
      if (rate > 0) limits[key] = String(rate);
    }
  return limits;
}

async function containerMismatches(
  sim: SimulatedNode,
  dir: string,
  pod: PlanPod,
  limits: KernelLimits,
): Promise<string[]> {
  const out: string[] = [];
  for (const container of await subdirs(dir)) {
    const cpus = await read(join(dir, container, 'cpuset.cpus'));
    if (cpus !== undefined && canonicalCpus(cpus, limits) !== pod.cpu.cpuset)
      out.push(`container ${container.slice(0, 8)} cpuset.cpus ${cpus} != ${pod.cpu.cpuset}`);
    const procs = (await read(join(dir, container, 'cgroup.procs'))) ?? '';
    for (const pid of procs.split('\n').filter(line => line !== '')) {
      const oom = await read(join(sim.procRoot, pid, 'oom_score_adj'));
      if (oom !== String(pod.oomScoreAdj)) out.push(`pid ${pid} oom_score_adj ${oom} != ${pod.oomScoreAdj}`);
    }
  }
  return out;
}

/** Differences between one pod's files and its plan entry ("" when they match). */
export async function podMismatches(
  sim: SimulatedNode,
  pod: PlanPod,
  tier: CpuMax | null,
  limits: KernelLimits,
): Promise<string[]> {
  const dir = podCgroupDir(sim, pod.uid, pod.kubeQoS);
  if ((await read(join(dir, 'cpu.weight'))) === undefined) return ['cgroup directory missing'];
  const out: string[] = [];
  for (const [file, want] of Object.entries(expectedPodFiles(pod, tier))) {
    const have = await read(join(dir, file));
    if (have !== want) out.push(`${file} ${have} != ${want}`);
  }
  const cpus = (await read(join(dir, 'cpuset.cpus'))) ?? '';
  if (canonicalCpus(cpus, limits) !== pod.cpu.cpuset) out.push(`cpuset.cpus ${cpus} != ${pod.cpu.cpuset}`);
  const haveIo = ioLimitsIn((await read(join(dir, 'io.max'))) ?? '', simDisk);
  const wantIo = expectedIoLimits(pod);
  if (JSON.stringify(haveIo) !== JSON.stringify(wantIo))
    out.push(`io.max ${JSON.stringify(haveIo)} != ${JSON.stringify(wantIo)}`);
  return [...out, ...(await containerMismatches(sim, dir, pod, limits))];
}

export async function tierMismatch(sim: SimulatedNode, plan: NodeIsolationPlan): Promise<string | undefined> {
  const tier = await tierQuota(sim);
  const s = plan.spec.cpuSuppress;
  if (typeof tier === 'string') return tier;
  if (!s.enabled)
    return tier === null ? undefined : `suppress disabled but the tier holds ${cpuMaxText(tier)}`;
  if (tier === null) return 'suppress enabled but the BE tier is unlimited';
  if (tier.periodUs !== s.cfsPeriodUs) return `tier period ${tier.periodUs} != ${s.cfsPeriodUs}`;
  if (tier.quotaUs < s.floorQuotaUs || tier.quotaUs > s.ceilingQuotaUs)
    return `tier quota ${tier.quotaUs} outside the plan's ${s.floorQuotaUs}..${s.ceilingQuotaUs}`;
  return undefined;
}

/** Every pod directory of the node (by uid) with its effective cpus and its containers' effective cpus. */
async function effectiveCpusets(
  sim: SimulatedNode,
  limits: KernelLimits,
): Promise<Map<string, { label: string; cpus: Set<number> }[]>> {
  const all = new Set(Array.from({ length: limits.cpus }, (_, i) => i));
  const effective = (text: string | undefined, parent: Set<number>): Set<number> => {
    const ids = parseIdList(text ?? '', limits.cpus, 'cpuset.cpus');
    // cgroup v2: an empty cpuset.cpus (or one disjoint from the parent's) runs on the parent's effective CPUs.
    if (typeof ids === 'string' || ids.length === 0) return parent;
    const own = ids.filter(id => parent.has(id));
    return own.length === 0 ? parent : new Set(own);
  };
  const out = new Map<string, { label: string; cpus: Set<number> }[]>();
  const root = join(sim.cgroupRoot, 'kubepods');
  const rootCpus = effective(await read(join(root, 'cpuset.cpus')), all);
  for (const tierDir of [root, join(root, 'burstable'), join(root, 'besteffort')]) {
    const tierCpus = effective(await read(join(tierDir, 'cpuset.cpus')), rootCpus);
    for (const name of (await subdirs(tierDir)).filter(n => n.startsWith('pod'))) {
      const podDir = join(tierDir, name);
      const podCpus = effective(await read(join(podDir, 'cpuset.cpus')), tierCpus);
      const entries = [{ label: 'pod', cpus: podCpus }];
      for (const container of await subdirs(podDir))
        entries.push({
          label: `container ${container.slice(0, 8)}`,
          cpus: effective(await read(join(podDir, container, 'cpuset.cpus')), podCpus),
        });
      out.set(name.slice(3), entries);
    }
  }
  return out;
}

/** In the kernel, not just in the plan: no other pod or container may run on an exclusive pod's CPUs. */
export async function kernelSharingProblems(
  sim: SimulatedNode,
  plan: NodeIsolationPlan,
  limits: KernelLimits,
): Promise<string[]> {
  const cpusets = await effectiveCpusets(sim, limits);
  const problems: string[] = [];
  for (const owner of plan.spec.pods.filter(p => p.cpu.pinned === 'exclusive')) {
    const owned = parseIdList(owner.cpu.cpuset, limits.cpus, 'cpuset');
    if (typeof owned === 'string') continue;
    for (const [uid, entries] of cpusets) {
      if (uid === owner.uid) continue;
      for (const entry of entries.filter(e => owned.some(cpu => e.cpus.has(cpu))))
        problems.push(
          `exclusive CPUs ${owned.filter(cpu => entry.cpus.has(cpu)).join(',')} of ${owner.namespace}/${owner.name} are in the effective cpuset of pod ${uid} (${entry.label})`,
        );
    }
  }
  return problems;
}
