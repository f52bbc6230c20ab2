// Agent apply on the real cgroup v1 kernel, in private nodeqos-test-* trees (one fresh tree per run):
//   full apply    a 110-pod plan onto kubelet-fresh cgroups: time and writes (from the agent's report)
//   no-op apply   the same plan again: time and writes (goal 0)
//   baseline      the physical floor: the same (file, value) writes, in the agent's order, with plain
//                 fs.writeFileSync in a loop onto a fresh tree; no reads, no checks, no record of originals
//   what-if       the same agent with a synchronous AgentFs injected (bench/agent/sync-fs.ts; not shipped),
//                 to show how much of the apply is node:fs/promises' per-file cost
// Runs alternate agent, what-if and baseline so background load on the machine hits all alike.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { NodeAgent, type PlanApplied, type PlanApplyReport } from '../src/agent/apply-plan.ts';
import { nodeFs, type AgentFs } from '../src/agent/fs.ts';
import type { NodeIsolationPlan } from '../src/api/plan.ts';
import { kernelNodeName, kernelPlan, sandboxPods } from './agent/kernel-plan.ts';
import { syncFs } from './agent/sync-fs.ts';
import { emit, quick, result, summarize } from './harness.ts';
import { CgroupSandbox, cgroupV1Unavailable } from './lib/cgroup-sandbox.ts';

const podCount = 110;
const runs = quick ? 1 : 7;

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

interface Recording {
  readonly writes: RecordedWrite[];
  /** readFile, listDirs, listNames and exists calls: file-system operations other than writes. */
  lookups: number;
}

function recordingFs(recording: Recording): AgentFs {
  const count = <R>(result: Promise<R>): Promise<R> => {
    recording.lookups++;
    return result;
  };
  return {
    readFile: path => count(nodeFs.readFile(path)),
    listDirs: path => count(nodeFs.listDirs(path)),
    listNames: path => count(nodeFs.listNames(path)),
    exists: path => count(nodeFs.exists(path)),
    writeFile: async (path, data) => {
      await nodeFs.writeFile(path, data);
      recording.writes.push({ path, data });
    },
  };
}

interface AgentRun {
  readonly fullMs: number;
  readonly fullWrites: number;
  readonly noopMs: number;
  readonly noopWrites: number;
}

/** One agent on a fresh tree: full apply, then the same plan again. Setup and teardown are not timed. */
async function agentRun(plan: NodeIsolationPlan, fs?: AgentFs): Promise<AgentRun & { sandbox: string }> {
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
    });
    let start = performance.now();
    const full = applied(await agent.applyPlan(plan));
    const fullMs = performance.now() - start;
    start = performance.now();
    const noop = applied(await agent.applyPlan(plan));
    const noopMs = performance.now() - start;
    return { fullMs, fullWrites: writesOf(full), noopMs, noopWrites: writesOf(noop), sandbox: sandbox.name };
  } finally {
    sandbox.removeSync();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** The recorded writes replayed with writeFileSync onto a fresh tree (paths moved to the new tree's name). */
async function baselineRun(
  plan: NodeIsolationPlan,
  writes: readonly RecordedWrite[],
  from: string,
): Promise<number> {
  const sandbox = await CgroupSandbox.create(sandboxPods(plan));
  try {
    const paths = writes.map(w => w.path.replace(`/${from}/`, `/${sandbox.name}/`));
    const start = performance.now();
    writes.forEach((write, i) => {
      writeFileSync(paths[i] ?? '', write.data);
    });
    return performance.now() - start;
  } finally {
    sandbox.removeSync();
  }
}

async function main(): Promise<void> {
  const unavailable = await cgroupV1Unavailable();
  if (unavailable !== undefined) {
    console.log(`agent-apply skipped: ${unavailable}`);
    result('agent_apply', { skipped: 'cgroup-v1-not-writable' });
    return;
  }
  const plan = await kernelPlan(podCount);
  const record: Recording = { writes: [], lookups: 0 };
  const recording = await agentRun(plan, recordingFs(record));
  const recorded = record.writes;
  if (recorded.length !== recording.fullWrites + recording.noopWrites)
    throw new Error(`the report counts ${recording.fullWrites} writes, the fs saw ${recorded.length}`);
  const agentRuns: AgentRun[] = [];
  const syncRuns: AgentRun[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < runs; i++) {
    agentRuns.push(await agentRun(plan));
    syncRuns.push(await agentRun(plan, syncFs));
    baseline.push(await baselineRun(plan, recorded, recording.sandbox));
  }
  const full = summarize(agentRuns.map(r => r.fullMs));
  const noop = summarize(agentRuns.map(r => r.noopMs));
  const syncFull = summarize(syncRuns.map(r => r.fullMs));
  const syncNoop = summarize(syncRuns.map(r => r.noopMs));
  const floor = summarize(baseline);
  const fullWrites = Math.max(...agentRuns.map(r => r.fullWrites));
  const noopWrites = Math.max(...agentRuns.map(r => r.noopWrites));
  emit({
    bench: 'agent-apply',
    case: `full apply, ${podCount} pods`,
    unit: 'ms',
    writes: fullWrites,
    ...full,
  });
  emit({ bench: 'agent-apply', case: 'no-op re-apply', unit: 'ms', writes: noopWrites, ...noop });
  emit({
    bench: 'agent-apply',
    case: 'file-system calls of one full apply + one no-op re-apply (startup discovery included)',
    writes: recorded.length,
    readsListsAndExists: record.lookups,
  });
  emit({
    bench: 'agent-apply',
    case: 'what-if: full apply with a synchronous AgentFs',
    unit: 'ms',
    ...syncFull,
  });
  emit({
    bench: 'agent-apply',
    case: 'what-if: no-op re-apply with a synchronous AgentFs',
    unit: 'ms',
    ...syncNoop,
  });
  emit({
    bench: 'agent-apply',
    case: 'baseline: the same writes with fs.writeFileSync (physical floor)',
    unit: 'ms',
    writes: recorded.length,
    ...floor,
  });
  result('agent_apply', {
    pods: podCount,
    full_apply_median_ms: full.median,
    full_apply_writes: fullWrites,
    noop_apply_median_ms: noop.median,
    noop_apply_writes: noopWrites,
    baseline_writefilesync_median_ms: floor.median,
    full_over_baseline: full.median / floor.median,
    whatif_sync_fs_full_median_ms: syncFull.median,
    whatif_sync_fs_noop_median_ms: syncNoop.median,
    whatif_sync_fs_full_over_baseline: syncFull.median / floor.median,
  });
}

await main();
