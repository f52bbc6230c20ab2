// One chaos run: seed the cluster, let it settle, then for `chaosMs` interleave workload, API server faults and
// kills/restarts (all chosen by the seeded PRNG), calm everything down, and measure how long the system takes to
// settle. The report carries what was injected, what the system logged in reaction, and every violation: of the
// settled state (final-state.ts) and of the whole run (every plan version, every agent write).
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QoSClass } from '../../src/api/group.ts';
import { errorMessage } from '../../src/kube/errors.ts';
import { FaultInjector, faultWeights, type FaultKind } from './fault-injector.ts';
import { settledViolations } from './final-state.ts';
import { checkPlanVersions, type Violation } from './invariants.ts';
import { Random } from './prng.ts';
import { Workload } from './workload.ts';
import type { ApiServerChoice } from './api-server.ts';
import { ChaosWorld, type BrokenVariant, type NodeShape } from './world.ts';

export interface ChaosOptions {
  readonly seed: number;
  readonly chaosMs: number;
  /** API server faults and kills; off for the broken-variant runs, which need only the workload. */
  readonly faults?: boolean;
  readonly variant?: BrokenVariant;
  readonly settleTimeoutMs?: number;
  /** Default: the embedded dev server. */
  readonly apiServer?: ApiServerChoice;
  /** The chaos phase goes on until the workload has made at least this many pod events (creates + deletes). */
  readonly minPodEvents?: number;
  /** Pods churned per 'pod churn' step (default 1): more pod events per second of chaos. */
  readonly podBurst?: number;
  /** Faults injected right after the opening, whatever the seed, so a run is sure to meet them. */
  readonly openingFaults?: readonly FaultKind[];
}

export interface ChaosReport {
  readonly seed: number;
  readonly server: string;
  readonly podEvents: number;
  /** Plan writes by the controllers during the quiet window after settling (must be 0). */
  readonly steadyWrites: number | undefined;
  readonly steps: number;
  readonly settled: boolean;
  readonly settleMs: number;
  readonly violations: Violation[];
  readonly injected: ReadonlyMap<string, number>;
  readonly kills: ReadonlyMap<string, number>;
  readonly workload: ReadonlyMap<string, number>;
  readonly reactions: ReadonlyMap<string, number>;
  readonly planVersions: number;
  readonly checkedWrites: number;
  readonly faultLog: readonly string[];
}

export const chaosNodes: readonly NodeShape[] = [
  { name: 'chaos-a', cpus: 8, numaNodes: 1 },
  { name: 'chaos-b', cpus: 8, numaNodes: 1 },
  { name: 'chaos-c', cpus: 8, numaNodes: 2 },
];

type Action =
  | 'pod churn'
  | 'policy edit'
  | 'concurrent policy edits'
  | 'plan tampered'
  | 'node label'
  | 'pressure'
  | 'fault'
  | 'kill controller'
  | 'kill agent';

const workloadWeights: Readonly<Record<Action, number>> = {
  'pod churn': 6,
  'policy edit': 2,
  'concurrent policy edits': 1,
  'plan tampered': 1,
  'node label': 1,
  pressure: 1,
  fault: 0,
  'kill controller': 0,
  'kill agent': 0,
};

const chaosWeights: Readonly<Record<Action, number>> = {
  ...workloadWeights,
  fault: 5,
  'kill controller': 1,
  'kill agent': 1.5,
};

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

interface Restart {
  readonly at: number;
  readonly run: () => Promise<void>;
}

class ChaosRun {
  readonly world: ChaosWorld;
  readonly rng: Random;
  readonly workload: Workload;
  readonly faults: FaultInjector;
  readonly kills = new Map<string, number>();
  private restarts: Restart[] = [];
  step = 0;

  constructor(world: ChaosWorld, seed: number) {
    this.world = world;
    this.rng = new Random(seed);
    this.workload = new Workload(world, this.rng);
    this.faults = new FaultInjector(world, this.rng);
  }

  async startAll(): Promise<void> {
    for (const slot of this.world.controllers) this.world.startController(slot);
    for (const slot of this.world.nodes) await this.world.startAgent(slot);
  }

  private async killController(): Promise<void> {
    const running = this.world.controllers.filter(c => c.running);
    if (running.length === 0) return;
    const slot = this.rng.pick(running);
    await this.world.killController(slot);
    bump(this.kills, 'controller killed (lease abandoned)');
    this.restarts.push({
      at: this.step + this.rng.int(3, 12),
      run: async () => {
        this.world.startController(slot);
        bump(this.kills, 'controller restarted');
      },
    });
  }

  private async killAgent(): Promise<void> {
    const running = this.world.nodes.filter(n => n.agent);
    if (running.length === 0) return;
    const slot = this.rng.pick(running);
    await this.world.killAgent(slot);
    bump(this.kills, 'agent killed mid-flight');
    this.restarts.push({
      at: this.step + this.rng.int(2, 10),
      run: async () => {
        await this.world.startAgent(slot);
        bump(this.kills, 'agent restarted');
      },
    });
  }

  async restartDue(all = false): Promise<void> {
    const due = this.restarts.filter(r => all || r.at <= this.step);
    this.restarts = this.restarts.filter(r => !due.includes(r));
    for (const restart of due) await restart.run();
  }

  async act(action: Action): Promise<void> {
    const w = this.workload;
    switch (action) {
      case 'pod churn':
        return w.churnPod();
      case 'policy edit':
        return w.editPolicy();
      case 'concurrent policy edits':
        return w.concurrentPolicyEdits();
      case 'plan tampered':
        return w.tamperPlan();
      case 'node label':
        return w.toggleNodeLabel();
      case 'pressure':
        return w.movePressure();
      case 'fault':
        this.faults.inject(this.rng.weighted(faultWeights), this.step);
        return;
      case 'kill controller':
        return this.killController();
      case 'kill agent':
        return this.killAgent();
    }
  }
}

/** Polls the settled-state check until it passes or time runs out. */
async function settle(
  world: ChaosWorld,
  timeoutMs: number,
): Promise<{ ms: number; violations: Violation[] }> {
  const started = Date.now();
  for (;;) {
    const violations = await settledViolations(world);
    const ms = Date.now() - started;
    if (violations.length === 0 || ms > timeoutMs) return { ms, violations };
    await sleep(200);
  }
}

/** Every run kills a controller and an agent early, whatever the seed; the rest is the PRNG's choice. */
const opening: readonly Action[] = ['kill controller', 'fault', 'kill agent'];

/** Decisions a run always makes, however slow the machine: a seed's first steps are the same everywhere. */
const minSteps = 40;

function nextAction(run: ChaosRun, options: ChaosOptions): Action {
  if (options.faults === false) return run.rng.weighted(workloadWeights);
  return opening[run.step - 1] ?? run.rng.weighted(chaosWeights);
}

async function chaosPhase(run: ChaosRun, options: ChaosOptions): Promise<void> {
  const end = Date.now() + options.chaosMs;
  // However many pod events are asked for, a run that cannot make them in 10 minutes stops (the report says).
  const hardEnd = Date.now() + Math.max(options.chaosMs, 600_000);
  const morePods = (): boolean =>
    run.workload.podEvents < (options.minPodEvents ?? 0) && Date.now() < hardEnd;
  while (Date.now() < end || (options.faults !== false && run.step < minSteps) || morePods()) {
    run.step++;
    await sleep(run.rng.int(40, 160));
    run.faults.tick(run.step);
    await run.restartDue();
    const forced = options.openingFaults?.[run.step - 1 - opening.length];
    if (forced !== undefined && options.faults !== false) {
      run.faults.inject(forced, run.step);
      continue;
    }
    const action = nextAction(run, options);
    try {
      const repeat = action === 'pod churn' ? (options.podBurst ?? 1) : 1;
      for (let i = 0; i < repeat; i++) await run.act(action);
    } catch (error) {
      // The harness is spared injected faults; anything failing here is worth seeing in the report.
      bump(run.workload.counts, `harness step failed (${action}): ${errorMessage(error).slice(0, 80)}`);
    }
  }
}

async function chaosThenCalm(run: ChaosRun, options: ChaosOptions): Promise<void> {
  // Two exclusive pods per node: every shared cpuset must shrink, and two pods could get the same CPUs.
  for (const node of run.world.nodes)
    for (const qosClass of ['LSE', 'LSE'] as QoSClass[]) await run.workload.createPod(node, qosClass, '1');
  await chaosPhase(run, options);
  run.faults.calm();
  await run.restartDue(true);
  await run.startAll();
}

/** Once settled, the controllers must not write a plan (or change a plan spec) for this long. */
const quietMs = 2000;

async function steadyState(world: ChaosWorld): Promise<{ writes: number; violations: Violation[] }> {
  const writesBefore = await world.planWrites();
  const versionsBefore = world.history.versions.length;
  await sleep(quietMs);
  const writes = (await world.planWrites()) - writesBefore;
  const changed = world.history.versions.slice(versionsBefore);
  const violations: Violation[] = [];
  if (writes > 0)
    violations.push({
      kind: 'steady-writes',
      node: '*',
      message: `${writes} plan write(s) in ${quietMs} ms after the system settled`,
    });
  for (const version of changed)
    violations.push({
      kind: 'steady-writes',
      node: version.node,
      message: `plan spec changed @${version.resourceVersion} (by ${version.managers.join('+')}) after the system settled`,
    });
  return { writes, violations };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const world = await ChaosWorld.create({
    nodes: chaosNodes,
    controllers: options.variant === 'shared-exclusive-planner' ? 1 : 2,
    variant: options.variant,
    historyLimit: 40,
    apiServer: options.apiServer,
  });
  try {
    const run = new ChaosRun(world, options.seed);
    await run.workload.seed();
    await run.startAll();
    const initial = await settle(world, 30_000);
    if (initial.violations.length === 0) await chaosThenCalm(run, options);
    const final =
      initial.violations.length > 0 ? initial : await settle(world, options.settleTimeoutMs ?? 40_000);
    const steady = final.violations.length === 0 ? await steadyState(world) : undefined;
    const gaps =
      world.api.planHistoryGaps === 0
        ? []
        : [
            {
              kind: 'plan-history-gap' as const,
              node: '*',
              message: `the plan record lost its place ${world.api.planHistoryGaps} time(s): versions may be missing`,
            },
          ];
    const writeViolations = world.nodes.flatMap(n =>
      n.writeViolations.map(message => ({ kind: 'kernel-write' as const, node: n.name, message })),
    );
    if (process.env.NODEQOS_CHAOS_DEBUG !== undefined)
      await writeFile(
        join(tmpdir(), `nodeqos-chaos-${options.seed}.log`),
        [...world.tally.lines, ...run.faults.log, ...final.violations.map(v => JSON.stringify(v))].join('\n'),
      );
    const history = checkPlanVersions(
      world.history.versions,
      node => world.nodes.find(n => n.name === node)?.cpus ?? 0,
    );
    return {
      seed: options.seed,
      server: world.api.description,
      podEvents: run.workload.podEvents,
      steadyWrites: steady?.writes,
      steps: run.step,
      settled: final.violations.length === 0,
      settleMs: final.ms,
      violations: [
        ...final.violations,
        ...history,
        ...writeViolations,
        ...(steady?.violations ?? []),
        ...gaps,
      ],
      injected: run.faults.counts,
      kills: run.kills,
      workload: run.workload.counts,
      reactions: world.tally.counts,
      planVersions: world.history.versions.length,
      checkedWrites: world.checkedWrites(),
      faultLog: run.faults.log,
    };
  } finally {
    await world.close();
  }
}

function line(title: string, counts: ReadonlyMap<string, number>): string {
  const items = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v}`);
  return `  ${title}: ${items.length === 0 ? 'none' : items.join(', ')}`;
}

export function formatReport(report: ChaosReport, chaosMs: number): string {
  const violations = report.violations.slice(0, 20).map(v => `    [${v.kind}] ${v.node}: ${v.message}`);
  const faultLog = report.violations.length === 0 ? [] : [`  fault log: ${report.faultLog.join('; ')}`];
  return [
    `chaos seed ${report.seed} on ${report.server}: ${(chaosMs / 1000).toFixed(0)} s, ${report.steps} steps, ${report.podEvents} pod events; ${
      report.settled
        ? `settled ${(report.settleMs / 1000).toFixed(1)} s after the chaos stopped`
        : 'NOT SETTLED'
    }`,
    line('faults injected', report.injected),
    line('kills', report.kills),
    line('workload', report.workload),
    line('system reactions (warn/error log lines)', report.reactions),
    `  checked: ${report.planVersions} plan versions, ${report.checkedWrites} agent writes against the kernel rules; plan writes in the ${quietMs} ms after settling: ${report.steadyWrites ?? 'not measured (not settled)'}`,
    `  violations: ${report.violations.length === 0 ? 'none' : report.violations.length}`,
    ...violations,
    ...faultLog,
  ].join('\n');
}
