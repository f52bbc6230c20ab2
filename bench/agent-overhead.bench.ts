// Agent overhead in steady state: two `nodeqos agent` processes (the shipped, compiled CLI: dist/cli/main.js, with
// its default settings) against this process's dev server, each on a simulated node, measured over the same window:
//   plan   a 110-pod plan, applied, the drift check spread over its 5 min period, the suppress loop at its
//          default interval
//   idle   the same process for a node with no plan (informers, timers, metrics server): the baseline
// CPU time is utime + stime from /proc/<pid>/stat over the window (what process.cpuUsage() reports inside the
// process); RSS is sampled every second from /proc/<pid>/status, and VmHWM gives the peak since start.
// Goals (issue 11): VmHWM <= 80 MB (76.3 MiB) and CPU <= 1 % of one core with the 110-pod plan.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { parse } from 'yaml';
import { messageOf } from '../src/agent/fs.ts';
import type { Pod } from '../src/api/inputs.ts';
import { createSimulatedNode, type SimulatedNode } from '../src/demo/simulated-node.ts';
import { startDevServer, type DevServer, type JsonObject } from '../src/devserver/index.ts';
import { planNode } from '../src/plan/plan-node.ts';
import { kubeQoSOf } from '../src/plan/qos.ts';
import {
  agentNodeOptions,
  compiledCli,
  startAgentProcess,
  type AgentProcess,
} from './agent/agent-process.ts';
import { resources } from './controller/cluster.ts';
import { benchNode, benchPod, benchPolicy } from './fixtures.ts';
import { emit, numberOption, quick, result } from './harness.ts';
import { procCpuMs, procMemory } from './lib/proc.ts';

const windowMs = quick ? 3_000 : 60_000;
/** After the plan is applied: start-up and the first status writes are not steady state. */
const warmupMs = quick ? 1_000 : 12_000;
/** `--pods=1024`: the largest plan the schema admits, for the chart's memory limit (VmHWM includes the first apply). */
const podCount = numberOption('pods') ?? 110;
const cpus = 64;
const pressurePercent = 50;
const nodes = { plan: 'agent-bench-plan', idle: 'agent-bench-idle' } as const;

/** Pods stored through the dev server (which assigns their UIDs), and the same pods on the simulated node. */
async function seedPods(server: DevServer, sim: SimulatedNode): Promise<Pod[]> {
  const pods: Pod[] = [];
  for (let i = 0; i < podCount; i++) {
    const pod = benchPod(nodes.plan, i);
    const stored = server.store.create(resources.pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      ...pod,
    });
    const uid = (stored.metadata as JsonObject).uid;
    if (typeof uid !== 'string') throw new Error('stored pod has no uid');
    const withUid = { ...pod, metadata: { ...pod.metadata, uid } };
    await sim.addPod({ uid, kubeQoS: kubeQoSOf(withUid), containers: ['main'] });
    pods.push(withUid);
  }
  return pods;
}

async function waitApplied(server: DevServer, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = server.store.get(resources.plans, '', nodes.plan)?.status as
      { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined;
    const applied = status?.conditions?.find(c => c.type === 'Applied');
    if (applied?.status === 'True' && applied.reason === 'Applied') return;
    if (performance.now() > deadline)
      throw new Error(`plan not applied within ${timeoutMs} ms: ${JSON.stringify(applied ?? 'no status')}`);
    await sleep(100);
  }
}

/** Advances a simulated node's /proc/stat; a tick that comes while a write is in flight is added to the next. */
class StatClock {
  private readonly sim: SimulatedNode;
  private owed = 0;
  private busy = false;
  private error: string | undefined;

  constructor(sim: SimulatedNode) {
    this.sim = sim;
  }

  tick(jiffies: number): void {
    this.owed += jiffies;
    if (this.busy) return;
    const due = this.owed;
    this.owed = 0;
    this.busy = true;
    this.sim
      .advanceStat(due)
      .catch((error: unknown) => {
        this.error ??= messageOf(error);
      })
      .finally(() => {
        this.busy = false;
      });
  }

  check(): void {
    if (this.error !== undefined) throw new Error(`simulated /proc/stat not advanced: ${this.error}`);
  }
}

interface Usage {
  readonly cpuPercentOfOneCore: number;
  readonly maxRssMiB: number;
  readonly peakRssMiB: number;
}

const mib = (bytes: number): number => bytes / 1024 / 1024;

/** From starting the agents to the plan's status saying Applied: start-up, the list, the first apply. */
let appliedAfterMs = 0;

async function measureWindow(
  agents: Record<keyof typeof nodes, AgentProcess>,
): Promise<Record<string, Usage>> {
  const entries = Object.entries(agents);
  const cpuBefore = entries.map(([, agent]) => procCpuMs(agent.pid));
  const maxRss = entries.map(() => 0);
  const start = performance.now();
  while (performance.now() - start < windowMs) {
    await sleep(Math.min(1_000, windowMs - (performance.now() - start)));
    entries.forEach(([, agent], i) => {
      maxRss[i] = Math.max(maxRss[i] ?? 0, procMemory(agent.pid).rssBytes);
    });
  }
  const elapsed = performance.now() - start;
  return Object.fromEntries(
    entries.map(([name, agent], i) => [
      name,
      {
        cpuPercentOfOneCore: ((procCpuMs(agent.pid) - (cpuBefore[i] ?? 0)) / elapsed) * 100,
        maxRssMiB: mib(maxRss[i] ?? 0),
        peakRssMiB: mib(procMemory(agent.pid).peakRssBytes),
      },
    ]),
  );
}

async function run(server: DevServer, dir: string): Promise<Record<string, Usage>> {
  const kubeconfig = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
  // The same kubeconfig as JSON: in a cluster the agent authenticates with its service account and never loads
  // the yaml package; a YAML kubeconfig here would add that (about 8 MiB) to a figure meant for a node.
  await writeFile(kubeconfig, JSON.stringify(parse(await readFile(kubeconfig, 'utf8'))));
  const sims = {
    plan: await createSimulatedNode(join(dir, 'plan'), cpus),
    idle: await createSimulatedNode(join(dir, 'idle'), cpus),
  };
  for (const sim of Object.values(sims)) await sim.setPressure(pressurePercent);
  const pods = await seedPods(server, sims.plan);
  const plan = planNode({ policy: benchPolicy(), node: benchNode(nodes.plan, cpus), pods });
  server.store.create(resources.plans, JSON.parse(JSON.stringify(plan)) as JsonObject);
  const clocks = Object.values(sims).map(sim => new StatClock(sim));
  const clock = setInterval(() => {
    for (const c of clocks) c.tick(10);
  }, 100);
  const agents: Partial<Record<keyof typeof nodes, AgentProcess>> = {};
  try {
    const cli = compiledCli();
    const startedAt = performance.now();
    agents.plan = await startAgentProcess(cli, nodes.plan, sims.plan, kubeconfig);
    agents.idle = await startAgentProcess(cli, nodes.idle, sims.idle, kubeconfig);
    await waitApplied(server, 300_000);
    appliedAfterMs = performance.now() - startedAt;
    await sleep(warmupMs);
    const usage = await measureWindow({ plan: agents.plan, idle: agents.idle });
    for (const c of clocks) c.check();
    return usage;
  } finally {
    clearInterval(clock);
    await Promise.all(Object.values(agents).map(agent => agent.stop()));
  }
}

const server = await startDevServer({ logger: pino({ level: 'silent' }) });
const dir = await mkdtemp(join(tmpdir(), 'nodeqos-bench-agent-'));
try {
  const usage = await run(server, dir);
  const plan = usage.plan;
  const idle = usage.idle;
  if (!plan || !idle) throw new Error('missing agent usage');
  const nodeOptions = agentNodeOptions();
  emit({
    bench: 'agent-overhead',
    case: `agent with a ${podCount}-pod plan`,
    windowMs,
    nodeOptions,
    ...plan,
  });
  emit({ bench: 'agent-overhead', case: 'agent with no plan (baseline)', windowMs, ...idle });
  result('agent-overhead', {
    pods: podCount,
    window_s: windowMs / 1000,
    applied_after_s: appliedAfterMs / 1000,
    rss_mib: plan.peakRssMiB,
    goal_rss_mib: 80e6 / 1024 / 1024,
    cpu_pct: plan.cpuPercentOfOneCore,
    goal_cpu_pct: 1,
    rss_max_sampled_mib: plan.maxRssMiB,
    idle_rss_mib: idle.peakRssMiB,
    idle_cpu_pct: idle.cpuPercentOfOneCore,
    plan_minus_idle_cpu_pct: plan.cpuPercentOfOneCore - idle.cpuPercentOfOneCore,
  });
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
