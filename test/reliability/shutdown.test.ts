// Graceful shutdown of the real processes: `nodeqos controller` and `nodeqos agent` are spawned against the dev
// server (through a kubeconfig file), kept busy, and sent SIGTERM. They must exit 0 promptly, the controller must
// release its Lease, and nothing may be left half-written: the plans parse, the agent's local plan copy is valid
// and the node's cgroup files hold whole values, exactly those of that copy.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlanCache } from '../../src/agent/runtime/plan-cache.ts';
import { planSchema } from '../../src/api/plan.ts';
import { runController, type RunningController } from '../../src/controller/run-controller.ts';
import { createSimulatedNode, type SimulatedNode } from '../../src/demo/simulated-node.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { kernelContentProblem, writableFiles, type KernelLimits } from '../chaos/kernel-rules.ts';
import { podMismatches, tierQuota } from '../chaos/node-state.ts';
import { TestCluster } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const limits: KernelLimits = { cpus: 4, numaNodes: 1, pageSize: 4096 };

interface Spawned {
  readonly child: ChildProcess;
  /** stderr, one parsed pino line each (non-JSON lines kept as { msg }). */
  readonly logs: { msg?: string; time?: number }[];
}

function spawnCli(args: readonly string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Spawned['logs'] = [];
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines.filter(l => l.trim() !== '')) {
      try {
        logs.push(JSON.parse(line) as { msg?: string });
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  child.stdout.resume();
  return { child, logs };
}

/** SIGTERM, then how the process ended and how long it took. */
async function terminate(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const started = Date.now();
  const ended = new Promise<{ code: number | null; signal: string | null }>(resolve => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const result = await ended;
  clearTimeout(timeout);
  return { ...result, ms: Date.now() - started };
}

let server: DevServer;
let cluster: TestCluster;
let dir: string;
let kubeconfig: string;
const children: ChildProcess[] = [];
const controllers: RunningController[] = [];

beforeEach(async () => {
  server = await startDevServer();
  cluster = new TestCluster(server);
  dir = mkdtempSync(join(tmpdir(), 'nodeqos-shutdown-'));
  kubeconfig = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
  await cluster.node('n1', {}, String(limits.cpus));
  await cluster.policy('p', { cpuSuppress: { pressureSource: 'psi' } });
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const controller of controllers.splice(0)) await controller.stop();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Keeps the plan changing (a new LS oom_score_adj every 25 ms) until the returned function is called. */
function churnPolicy(): () => Promise<number> {
  const state = { running: true };
  let edits = 0;
  const loop = (async () => {
    while (state.running) {
      await cluster.patchPolicy('p', { classes: { LS: { oomScoreAdj: -300 - (++edits % 400) } } });
      await new Promise(resolve => setTimeout(resolve, 25));
    }
  })();
  return async () => {
    state.running = false;
    await loop;
    return edits;
  };
}

function lease(): { holderIdentity?: string } | undefined {
  const stored = server.store.get('leases.coordination.k8s.io', 'default', 'nodeqos-controller');
  return stored?.spec as { holderIdentity?: string } | undefined;
}

async function podsOn(sim: SimulatedNode, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const uid = await cluster.pod(`ls-${i}`, 'n1', { cpu: '50m', memory: '64Mi' });
    await sim.addPod({ uid, kubeQoS: 'Guaranteed', containers: ['c'] });
  }
}

/** Every knob file under kubepods and every oom_score_adj holds a whole value the kernel would take. */
async function halfWritten(sim: SimulatedNode): Promise<string[]> {
  const problems: string[] = [];
  const walk = async (path: string): Promise<void> => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (writableFiles.includes(entry.name)) {
        const problem = kernelContentProblem(entry.name, await readFile(full, 'utf8'), limits);
        if (problem) problems.push(`${full}: ${problem}`);
      }
    }
  };
  await walk(join(sim.cgroupRoot, 'kubepods'));
  for (const entry of await readdir(sim.procRoot, { withFileTypes: true })) {
    if (!entry.isDirectory() || !/^\d+$/.test(entry.name)) continue;
    const file = join(sim.procRoot, entry.name, 'oom_score_adj');
    const problem = kernelContentProblem('oom_score_adj', await readFile(file, 'utf8'), limits);
    if (problem) problems.push(`${file}: ${problem}`);
  }
  return problems;
}

describe('graceful shutdown on SIGTERM', () => {
  it('controller: exits 0 promptly while writing, releases its Lease, leaves whole plans', async () => {
    await cluster.pod('ls', 'n1', { cpu: '1' });
    const controller = spawnCli(
      [
        'controller',
        '--kubeconfig',
        kubeconfig,
        '--leader-elect',
        '--lease-namespace',
        'default',
        '--metrics-port',
        '0',
      ],
      { POD_NAME: 'controller-under-test' },
    );
    children.push(controller.child);
    await eventually(async () => {
      expect(lease()?.holderIdentity).toBe('controller-under-test');
      expect(await cluster.plan('n1')).toBeDefined();
    }, 20_000);
    const stopChurn = churnPolicy();
    await new Promise(resolve => setTimeout(resolve, 500));

    const ended = await terminate(controller.child);
    await stopChurn();
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.ms).toBeLessThan(5000);
    expect(lease()?.holderIdentity).toBe('');
    expect(controller.logs.map(l => l.msg)).toContain('stopped leading');
    expect(planSchema.safeParse(await cluster.plan('n1')).success).toBe(true);
  }, 40_000);

  it('agent: exits 0 promptly after at most the pass in flight; the local plan copy is valid and the files hold exactly it', async () => {
    const sim = await createSimulatedNode(join(dir, 'node'), limits.cpus);
    await sim.setPressure(60);
    await podsOn(sim, 30);
    const controller = runController({
      kubeConfig: server.kubeConfig(),
      logger: pino({ level: 'silent' }),
      identity: 'in-process',
      debounceMs: 10,
    });
    controllers.push(controller);
    await eventually(async () => expect((await cluster.plan('n1'))?.spec.pods).toHaveLength(30), 10_000);
    const agent = spawnCli([
      'agent',
      ...['--node-name', 'n1', '--kubeconfig', kubeconfig, '--state-dir', sim.stateDir],
      ...['--cgroup-root', sim.cgroupRoot, '--proc-root', sim.procRoot, '--sys-root', sim.sysRoot],
      ...[
        '--cgroup-version',
        'v2',
        '--cgroup-driver',
        'cgroupfs',
        '--metrics-port',
        '0',
        '--resync-ms',
        '1000',
      ],
    ]);
    children.push(agent.child);
    await eventually(async () => {
      const plan = await cluster.plan('n1');
      expect(plan?.status?.appliedGeneration).toBe(plan?.metadata.generation);
    }, 20_000);

    // Plan versions arrive faster than the agent applies 30 pods: a backlog is queued when SIGTERM comes.
    const stopChurn = churnPolicy();
    await new Promise(resolve => setTimeout(resolve, 800));
    const ended = await terminate(agent.child);
    const edits = await stopChurn();
    await controller.stop();
    controllers.splice(0);

    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.ms).toBeLessThan(5000);
    const shutdownAt = agent.logs.findIndex(l => l.msg?.startsWith('shutting down') === true);
    expect(shutdownAt).toBeGreaterThanOrEqual(0);
    const appliedAfter = agent.logs.slice(shutdownAt).filter(l => l.msg === 'plan applied').length;
    expect(appliedAfter).toBeLessThanOrEqual(1);
    expect(edits).toBeGreaterThan(5);

    const cached = await new PlanCache(sim.stateDir).load('n1');
    if (cached.kind !== 'ok') throw new Error(`local plan copy not usable: ${JSON.stringify(cached)}`);
    expect(await halfWritten(sim)).toEqual([]);
    const tier = await tierQuota(sim);
    if (typeof tier === 'string') throw new Error(tier);
    const mismatches = [];
    for (const pod of cached.plan.spec.pods)
      mismatches.push(...(await podMismatches(sim, pod, tier, limits)));
    expect(mismatches).toEqual([]);
  }, 60_000);
});
