// Agent apply on the real cgroup v1 kernel, in private nodeqos-test-* trees (one fresh tree per run):
//   full apply     a 110-pod plan onto kubelet-fresh cgroups: time and writes (from the agent's report)
//   drift check    the same plan again, every pod re-read (what the drift check does to each pod once per
//                  period): time and writes (goal 0)
//   one-pod change the plan with one pod's cpu.shares changed, applied as the runtime applies a plan update
//                  (scope 'changed'): which files it read or wrote (goal: only that pod's)
//   floor (a)      every knob the full apply read, read once, and every value it wrote, written once, with
//                  readFileSync / writeFileSync in a loop on a fresh tree: no checks, no record of originals
//   floor (b)      every knob the drift check read, read once with readFileSync
//   before         the same agent on node:fs/promises (what it shipped before issue 11), for the side-by-side
// Runs alternate the variants so background load on the machine hits all alike.
// Goals (issue 11): full apply <= 1.5x floor (a); drift check <= 1.5x floor (b); a one-pod change touches only
// that pod's files.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { NodeAgent, type PlanApplied, type PlanApplyReport } from '../src/agent/apply-plan.ts';
import { nodeFs, type AgentFs } from '../src/agent/fs.ts';
import type { NodeIsolationPlan } from '../src/api/plan.ts';
import { kernelNodeName, kernelPlan, sandboxPods } from './agent/kernel-plan.ts';
import { promisesFs } from './agent/promises-fs.ts';
import { emit, quick, result, summarize } from './harness.ts';
import { CgroupSandbox, cgroupV1Unavailable } from './lib/cgroup-sandbox.ts';

const podCount = 110;
const runs = quick ? 1 : 7;
const goal = { fullOverFloor: 1.5, driftOverFloor: 1.5 } as const;

interface RecordedWrite {
  readonly path: string;
  readonly data: string;
}

function applied(report: PlanApplyReport): PlanApplied {
  if (report.status === 'refused')
    throw new Error(`plan refused: ${report.reason}: ${report.issues.join('; ')}`);
  if (report.podFailures.length > 0)
    throw new Error(`apply failed on the kernel: ${JSON.stringify(report.podFailures.slice(0, 5))}`);
  return report;
}

function writesOf(report: PlanApplied): number {
  return report.pods.reduce((sum, pod) => sum + pod.written.length + (pod.oom?.written ?? 0), 0);
}

/** What one pass did to the file system. */
class Recording {
  writes: RecordedWrite[] = [];
  reads: string[] = [];
  /** listDirs, listNames and exists calls. */
  lookups = 0;

  reset(): void {
    this.writes = [];
    this.reads = [];
    this.lookups = 0;
  }

  fs(base: AgentFs): AgentFs {
    return {
      readFile: path => {
        this.reads.push(path);
        return base.readFile(path);
      },
      listDirs: path => {
        this.lookups++;
        return base.listDirs(path);
      },
      listNames: path => {
        this.lookups++;
        return base.listNames(path);
      },
      exists: path => {
        this.lookups++;
        return base.exists(path);
      },
      writeFile: async (path, data) => {
        await base.writeFile(path, data);
        this.writes.push({ path, data });
      },
    };
  }
}

interface AgentRun {
  readonly fullMs: number;
  readonly fullWrites: number;
  readonly driftMs: number;
  readonly driftWrites: number;
}

interface Tree {
  readonly sandbox: CgroupSandbox;
  readonly stateDir: string;
  readonly agent: NodeAgent;
}

async function withTree<T>(
  plan: NodeIsolationPlan,
  fs: AgentFs,
  work: (tree: Tree) => Promise<T>,
): Promise<T> {
  const sandbox = await CgroupSandbox.create(sandboxPods(plan));
  const stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-bench-state-'));
  try {
    const agent = await NodeAgent.create({
      nodeName: kernelNodeName,
      stateDir,
      kubepodsDir: sandbox.name,
      driver: 'cgroupfs',
      registry: new Registry(),
      fs,
      // As `nodeqos agent` runs it: no forced rewrites of values that read back right (decision 0120).
      forceRewriteIntervalMs: 0,
    });
    return await work({ sandbox, stateDir, agent });
  } finally {
    sandbox.removeSync();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** One agent on a fresh tree: full apply, then a drift check of every pod. Setup and teardown are not timed. */
function agentRun(plan: NodeIsolationPlan, fs: AgentFs): Promise<AgentRun> {
  return withTree(plan, fs, async ({ agent }) => {
    let start = performance.now();
    const full = applied(await agent.applyPlan(plan));
    const fullMs = performance.now() - start;
    start = performance.now();
    const drift = applied(await agent.applyPlan(plan));
    const driftMs = performance.now() - start;
    return { fullMs, fullWrites: writesOf(full), driftMs, driftWrites: writesOf(drift) };
  });
}

/** The kernel files the floors replay, moved from the recording's tree to a fresh one. */
function moved(paths: readonly string[], from: string, to: string): string[] {
  return paths.map(path => path.replace(`/${from}/`, `/${to}/`));
}

/** Floor (a): read every knob once, write every value once; floor (b): read every knob once. */
async function floorRun(
  plan: NodeIsolationPlan,
  recorded: {
    readonly from: string;
    readonly fullReads: string[];
    readonly writes: RecordedWrite[];
    readonly driftReads: string[];
  },
): Promise<{ readonly aMs: number; readonly bMs: number }> {
  const sandbox = await CgroupSandbox.create(sandboxPods(plan));
  try {
    const reads = moved([...new Set(recorded.fullReads)], recorded.from, sandbox.name);
    const writes = moved(
      recorded.writes.map(w => w.path),
      recorded.from,
      sandbox.name,
    );
    let start = performance.now();
    for (const path of reads) readFileSync(path, 'utf8');
    recorded.writes.forEach((write, i) => {
      writeFileSync(writes[i] ?? '', write.data);
    });
    const aMs = performance.now() - start;
    const driftReads = moved([...new Set(recorded.driftReads)], recorded.from, sandbox.name);
    start = performance.now();
    for (const path of driftReads) readFileSync(path, 'utf8');
    return { aMs, bMs: performance.now() - start };
  } finally {
    sandbox.removeSync();
  }
}

/** The plan with one pod's cpu.shares changed (a pod the full apply wrote, so its directory exists). */
function withOnePodChanged(plan: NodeIsolationPlan, index: number): NodeIsolationPlan {
  const pods = plan.spec.pods.map((pod, i) =>
    i === index ? { ...pod, cpu: { ...pod.cpu, shares: pod.cpu.shares - 1 } } : pod,
  );
  return { ...plan, spec: { ...plan.spec, pods } };
}

interface Recorded {
  readonly from: string;
  readonly fullReads: string[];
  readonly writes: RecordedWrite[];
  readonly fullLookups: number;
  readonly driftReads: string[];
  readonly driftLookups: number;
  readonly driftWrites: number;
  /** The one-pod change: files read or written outside that pod's directories. */
  readonly changeForeignFiles: number;
  readonly changeFiles: number;
  readonly changeWrites: number;
}

/** A recorded run: what each pass read and wrote, for the floors and the one-pod change check. */
function recordRun(plan: NodeIsolationPlan): Promise<Recorded> {
  const recording = new Recording();
  return withTree(plan, recording.fs(nodeFs), async ({ agent, sandbox }) => {
    // The knobs: files in the kubepods tree (not /sys/block, which each pass lists for the blkio devices).
    const inTree = (path: string): boolean => path.includes(`/${sandbox.name}/`);
    applied(await agent.applyPlan(plan));
    const full = { reads: recording.reads, writes: recording.writes, lookups: recording.lookups };
    recording.reset();
    applied(await agent.applyPlan(plan));
    const drift = { reads: recording.reads, lookups: recording.lookups, writes: recording.writes.length };
    recording.reset();
    const index = plan.spec.pods.findIndex(pod => pod.qosClass !== 'BE');
    const changed = plan.spec.pods[index];
    if (!changed) throw new Error('no pod to change');
    applied(await agent.applyPlan(withOnePodChanged(plan, index), { kind: 'changed' }));
    const touched = [...recording.reads, ...recording.writes.map(w => w.path)].filter(inTree);
    const ownDir = (path: string): boolean => path.includes(`pod${changed.uid}/`);
    return {
      from: sandbox.name,
      fullReads: full.reads.filter(inTree),
      writes: full.writes,
      fullLookups: full.lookups,
      driftReads: drift.reads.filter(inTree),
      driftLookups: drift.lookups,
      driftWrites: drift.writes,
      changeForeignFiles: touched.filter(path => !ownDir(path)).length,
      changeFiles: new Set(touched).size,
      changeWrites: recording.writes.length,
    };
  });
}

async function main(): Promise<void> {
  const unavailable = await cgroupV1Unavailable();
  if (unavailable !== undefined) {
    console.log(`agent-apply skipped: ${unavailable}`);
    result('agent-apply', { skipped: 'cgroup-v1-not-writable' });
    return;
  }
  const plan = await kernelPlan(podCount);
  const recorded = await recordRun(plan);
  const agentRuns: AgentRun[] = [];
  const beforeRuns: AgentRun[] = [];
  const floorA: number[] = [];
  const floorB: number[] = [];
  for (let i = 0; i < runs; i++) {
    agentRuns.push(await agentRun(plan, nodeFs));
    beforeRuns.push(await agentRun(plan, promisesFs));
    const floor = await floorRun(plan, recorded);
    floorA.push(floor.aMs);
    floorB.push(floor.bMs);
  }
  const full = summarize(agentRuns.map(r => r.fullMs));
  const drift = summarize(agentRuns.map(r => r.driftMs));
  const beforeFull = summarize(beforeRuns.map(r => r.fullMs));
  const beforeDrift = summarize(beforeRuns.map(r => r.driftMs));
  const a = summarize(floorA);
  const b = summarize(floorB);
  const fullWrites = Math.max(...agentRuns.map(r => r.fullWrites));
  const driftWrites = Math.max(...agentRuns.map(r => r.driftWrites));
  const distinct = (paths: readonly string[]): number => new Set(paths).size;
  emit({
    bench: 'agent-apply',
    case: `full apply, ${podCount} pods`,
    unit: 'ms',
    writes: fullWrites,
    ...full,
  });
  emit({ bench: 'agent-apply', case: 'drift check of every pod', unit: 'ms', writes: driftWrites, ...drift });
  emit({
    bench: 'agent-apply',
    case: 'floor (a): read every knob once, write every value once',
    unit: 'ms',
    ...a,
  });
  emit({ bench: 'agent-apply', case: 'floor (b): read every knob once', unit: 'ms', ...b });
  emit({
    bench: 'agent-apply',
    case: 'file-system calls per pass',
    fullReads: recorded.fullReads.length,
    fullDistinctReads: distinct(recorded.fullReads),
    fullWrites: recorded.writes.length,
    fullListsAndExists: recorded.fullLookups,
    driftReads: recorded.driftReads.length,
    driftDistinctReads: distinct(recorded.driftReads),
    driftListsAndExists: recorded.driftLookups,
  });
  emit({
    bench: 'agent-apply',
    case: "one pod's cpu.shares changed, applied with scope 'changed'",
    filesTouched: recorded.changeFiles,
    writes: recorded.changeWrites,
    filesOutsideThatPod: recorded.changeForeignFiles,
  });
  emit({ bench: 'agent-apply', case: 'before: full apply on node:fs/promises', unit: 'ms', ...beforeFull });
  emit({ bench: 'agent-apply', case: 'before: drift check on node:fs/promises', unit: 'ms', ...beforeDrift });
  result('agent-apply', {
    pods: podCount,
    full_over_floor: full.median / a.median,
    goal_full_over_floor: goal.fullOverFloor,
    drift_over_floor: drift.median / b.median,
    goal_drift_over_floor: goal.driftOverFloor,
    one_pod_change_foreign_files: recorded.changeForeignFiles,
    goal_one_pod_change_foreign_files: 0,
    full_median_ms: full.median,
    full_p99_ms: full.p99,
    drift_median_ms: drift.median,
    drift_p99_ms: drift.p99,
    floor_a_median_ms: a.median,
    floor_b_median_ms: b.median,
    full_writes: fullWrites,
    drift_writes: driftWrites,
    reads_per_knob_full: recorded.fullReads.length / distinct(recorded.fullReads),
    reads_per_knob_drift: recorded.driftReads.length / distinct(recorded.driftReads),
    before_full_median_ms: beforeFull.median,
    before_drift_median_ms: beforeDrift.median,
  });
}

await main();
