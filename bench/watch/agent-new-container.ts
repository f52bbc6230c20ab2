// New container -> isolated by the real agent: the measurement behind `RESULT new-container`. The agent is the one
// `nodeqos agent` runs (NodeAgent + AgentRuntime with the cgroup watch and the attach wait, its plan from the local
// copy, fixed pressure so the suppress loop holds still), in this process on the shipped synchronous fs, with a
// plan that already names the 200 pods the kubelet-like child (kubelet-child.ts) then creates at random intervals
// in a sandbox kubepods tree on the real cgroup v1 kernel. Every write the agent makes is time-stamped (the fs is
// wrapped); a container's latency is from its first mkdir to the agent's last write for its pod (pod and container
// directories in all four hierarchies, and its process's oom_score_adj). That last write is when every plan value
// is in the kernel: after the run, while the processes are alive, a full re-apply of the plan must find nothing
// left to write for any pod (`unfinished` counts the pods where it did).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { PlanApplied } from '../../src/agent/apply-plan.ts';
import type { AgentFs } from '../../src/agent/fs.ts';
import type { AgentRuntime } from '../../src/agent/runtime/agent-runtime.ts';
import type { Pod } from '../../src/api/inputs.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { machineTopology, kernelNodeName } from '../agent/kernel-plan.ts';
import { benchNode, benchPolicy } from '../fixtures.ts';
import { CgroupSandbox } from '../lib/cgroup-sandbox.ts';
import { podKubeQoS, podUid } from './kubelet-pods.ts';
import { driveKubelet, ms, type KubeletRun, type Made } from './new-container.ts';

/** Pods shaped for their QoS directory (Guaranteed, Burstable, BestEffort in turn), with few millicores. */
function kubeletPod(i: number): Pod {
  const kubeQoS = podKubeQoS(i);
  const resources =
    kubeQoS === 'Guaranteed'
      ? { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '10m', memory: '64Mi' } }
      : kubeQoS === 'Burstable'
        ? { requests: { cpu: '5m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } }
        : {};
  return {
    metadata: {
      name: `new-${i}`,
      namespace: 'bench',
      uid: podUid(i),
      labels: {},
      creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    },
    spec: { nodeName: kernelNodeName, containers: [{ name: 'main', resources }] },
  };
}

export async function newContainerPlan(count: number): Promise<NodeIsolationPlan> {
  const topology = await machineTopology();
  const pods = Array.from({ length: count }, (_, i) => kubeletPod(i));
  return planNode({
    policy: benchPolicy(),
    node: benchNode(kernelNodeName, topology.cpus.length),
    pods,
    topology,
  });
}

export interface AgentContainerTiming {
  readonly uid: string;
  /** First mkdir -> the agent's last write for the pod. */
  readonly allMs: number;
  /** Process attached -> the agent's last write for the pod. */
  readonly fromAttachMs: number;
  readonly attachMs: number;
}

export interface AgentNewContainerRun {
  readonly timings: AgentContainerTiming[];
  /** Pods the final re-apply still had to write to (or failed on): not isolated by the agent in the run. */
  readonly unfinished: number;
  /**
   * Pods whose process's oom_score_adj the kernel refused to lower (no CAP_SYS_RESOURCE on this machine): their
   * latency covers the cgroup values only.
   */
  readonly oomRefused: number;
  readonly writes: number;
}

interface TimedWrite {
  readonly path: string;
  readonly at: bigint;
}

const podOfPath = /\/pod([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\//;
const pidOfPath = /^\/proc\/(\d+)\/oom_score_adj$/;

function timedFs(base: AgentFs, writes: TimedWrite[]): AgentFs {
  return {
    ...base,
    writeFile: async (path, data) => {
      await base.writeFile(path, data);
      writes.push({ path, at: process.hrtime.bigint() });
    },
  };
}

/** The last write per pod uid (cgroup files by their path, oom_score_adj by the pid the child reported). */
function lastWrites(writes: readonly TimedWrite[], made: readonly Made[]): Map<string, bigint> {
  const uidOfPid = new Map(made.map(m => [String(m.pid), m.uid]));
  const last = new Map<string, bigint>();
  for (const write of writes) {
    const uid = podOfPath.exec(write.path)?.[1] ?? uidOfPid.get(pidOfPath.exec(write.path)?.[1] ?? '');
    if (uid === undefined) continue;
    const before = last.get(uid);
    if (before === undefined || write.at > before) last.set(uid, write.at);
  }
  return last;
}

/** What the final full re-apply found for each pod: still something to write, or refused. */
function finalCheck(report: PlanApplied): { unfinished: Set<string>; oomRefused: Set<string> } {
  const unfinished = new Set<string>();
  const oomRefused = new Set<string>();
  for (const pod of report.pods) {
    const cgroupFailures = pod.failed.filter(f => f.knob !== 'oom_score_adj');
    // Refused once (EACCES), then reported unsupported without being tried again (docs/agent.md, oom_score_adj).
    if (pod.failed.length > cgroupFailures.length || pod.unsupported.some(u => u.knob === 'oom_score_adj'))
      oomRefused.add(pod.uid);
    if (pod.written.length > 0 || (pod.oom?.written ?? 0) > 0 || cgroupFailures.length > 0)
      unfinished.add(pod.uid);
  }
  return { unfinished, oomRefused };
}

/**
 * Which agent: this checkout's (`root` undefined: cgroup watch on, default drift check), or the sources of another
 * checkout (`--before=<dir>`: the commit before issue 11, resync-based, watch off, re-applying every `resyncMs`).
 */
export interface AgentVariant {
  readonly root?: string | undefined;
  readonly watch: boolean;
  readonly resyncMs: number;
  /** The agent is done once it wrote nothing for this long after the child finished. */
  readonly quietMs: number;
}

const here = fileURLToPath(new URL('../..', import.meta.url));

type AgentModules = typeof import('../../src/agent/apply-plan.ts') &
  typeof import('../../src/agent/discovery/cgroup-mode.ts') &
  typeof import('../../src/agent/fs.ts') &
  typeof import('../../src/agent/runtime/agent-runtime.ts') &
  typeof import('../../src/agent/runtime/plan-cache.ts') &
  typeof import('../../src/agent/suppress/samplers/select.ts') &
  typeof import('../../src/agent/watch/hierarchies.ts');

/** The agent's modules from a checkout's sources (this one's by default). */
async function agentModules(root = here): Promise<AgentModules> {
  const load = (path: string): Promise<unknown> => import(pathToFileURL(join(root, 'src', path)).href);
  return {
    ...((await load('agent/apply-plan.ts')) as typeof import('../../src/agent/apply-plan.ts')),
    ...((await load(
      'agent/discovery/cgroup-mode.ts',
    )) as typeof import('../../src/agent/discovery/cgroup-mode.ts')),
    ...((await load('agent/fs.ts')) as typeof import('../../src/agent/fs.ts')),
    ...((await load(
      'agent/runtime/agent-runtime.ts',
    )) as typeof import('../../src/agent/runtime/agent-runtime.ts')),
    ...((await load(
      'agent/runtime/plan-cache.ts',
    )) as typeof import('../../src/agent/runtime/plan-cache.ts')),
    ...((await load(
      'agent/suppress/samplers/select.ts',
    )) as typeof import('../../src/agent/suppress/samplers/select.ts')),
    ...((await load('agent/watch/hierarchies.ts')) as typeof import('../../src/agent/watch/hierarchies.ts')),
  };
}

export async function measureAgentNewContainers(
  options: KubeletRun,
  variant: AgentVariant = { watch: true, resyncMs: 300_000, quietMs: 500 },
): Promise<AgentNewContainerRun> {
  const { AgentRuntime, NodeAgent, PlanCache, createSamplerSelector, layoutFor, nodeFs, watchedHierarchies } =
    await agentModules(variant.root);
  const sandbox = await CgroupSandbox.create([]);
  const stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-bench-new-'));
  const writes: TimedWrite[] = [];
  let runtime: AgentRuntime | undefined;
  try {
    const plan = await newContainerPlan(options.count);
    await new PlanCache(stateDir).save(plan);
    const logger = pino({ level: 'silent' });
    const registry = new Registry();
    const agent = await NodeAgent.create({
      nodeName: kernelNodeName,
      stateDir,
      kubepodsDir: sandbox.name,
      driver: 'cgroupfs',
      registry,
      logger,
      fs: timedFs(nodeFs, writes),
    });
    runtime = new AgentRuntime({
      agent,
      cache: new PlanCache(stateDir),
      logger,
      registry,
      samplerFor: createSamplerSelector({ procRoot: '/proc', fixedPressure: 0 }),
      resyncMs: variant.resyncMs,
      ...(variant.watch
        ? {
            cgroupWatch: {
              hierarchies: watchedHierarchies(layoutFor(agent.mode)),
              driver: agent.mode.driver,
            },
          }
        : {}),
    });
    await runtime.start();
    const started = runtime;
    let check: { unfinished: Set<string>; oomRefused: Set<string> } = {
      unfinished: new Set(),
      oomRefused: new Set(),
    };
    // Settled: the child is done and the agent wrote nothing for half a second.
    let lastCount = -1;
    let quietSince = performance.now();
    const made = await driveKubelet(
      sandbox.name,
      options,
      () => {
        if (writes.length !== lastCount) {
          lastCount = writes.length;
          quietSince = performance.now();
        }
        return performance.now() - quietSince > variant.quietMs;
      },
      async () => {
        await started.idle();
        const report = await agent.applyPlan(plan);
        if (report.status === 'refused') throw new Error(`plan refused: ${report.reason}`);
        check = finalCheck(report);
      },
    );
    const last = lastWrites(writes, made);
    const timings: AgentContainerTiming[] = [];
    for (const m of made) {
      const at = last.get(m.uid);
      if (at === undefined || check.unfinished.has(m.uid)) continue;
      timings.push({
        uid: m.uid,
        allMs: ms(at - m.mkdirAt),
        fromAttachMs: ms(at - m.attachedAt),
        attachMs: ms(m.attachedAt - m.mkdirAt),
      });
    }
    return {
      timings,
      unfinished: made.length - timings.length,
      oomRefused: check.oomRefused.size,
      writes: writes.length,
    };
  } finally {
    await runtime?.stop();
    sandbox.removeSync();
    await rm(stateDir, { recursive: true, force: true });
  }
}
