// The running node agent: the last good plan (from the API server, else the local copy), pods the plan does not
// know yet given their class values, the BE suppress loop, network QoS, and the plan's status. One apply at a
// time; a refused plan leaves the previous values in place. A pass touches only what needs it: the pods whose plan
// entry changed, the pods whose cgroups just appeared (inotify), and the drift check's few pods per step, spread
// over the resync interval so each pod is re-read once per interval (docs/decisions/0120).
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeIsolationPlan } from '../../api/plan.ts';
import type { Topology } from '../../api/topology.ts';
import { canonicalJson } from '../../api/canonical-json.ts';
import { errorMessage } from '../../kube/errors.ts';
import type { Informer, InformerSource } from '../../kube/informer.ts';
import type { CachedPlan, CachedPod, InvalidPlan } from '../../kube/transforms.ts';
import type { NodeAgent, PlanApplied, PlanApplyReport, PlanRefused } from '../apply-plan.ts';
import type { SamplerFor } from '../suppress/samplers/select.ts';
import type { PlanCache } from './plan-cache.ts';
import { planStatus, type PlanStatus } from './plan-status.ts';
import { StatusPublisher } from './status-publisher.ts';
import { SuppressRunner } from './suppress-runner.ts';
import { StepClock, type RuntimeHealth } from './step-clock.ts';
import { provisionalPods } from '../../plan/provisional-pods.ts';
import type { CgroupWatcherOptions } from '../watch/cgroup-watcher.ts';
import { CgroupTrigger } from './cgroup-trigger.ts';
import { runtimeInformers } from './informers.ts';
import { applyNetwork } from './network.ts';
import { layoutFor } from '../discovery/cgroup-mode.ts';
import { nodeFs, type AgentFs } from '../fs.ts';
import { NodeConditionsPublisher } from '../conditions/node-conditions.ts';
import type { KubeRequester } from '../eviction/kube-calls.ts';
import { EvictionRunner, type NodeMemorySource } from '../eviction/runner.ts';
import { DriftCursor } from './drift-cursor.ts';
import type { PassScope } from '../executor/executor.ts';

export type { RuntimeHealth };

export interface AgentRuntimeOptions {
  readonly agent: NodeAgent;
  readonly cache: PlanCache;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly samplerFor: SamplerFor;
  /** Absent when running without an API server (the plan comes from the local copy only). */
  readonly kube?: {
    /** agentPlanSource: plans this build's schema rejects arrive too, and are refused visibly. */
    readonly planSource: InformerSource<CachedPlan | InvalidPlan>;
    readonly podSource: InformerSource<CachedPod>;
    readonly writeStatus: (status: PlanStatus) => Promise<void>;
  };
  /**
   * BE eviction and the Node's conditions (needs kube): the client for the Eviction API, Events and nodes/status.
   * nodeMemory overrides the signal (tests point it at their own cgroup).
   */
  readonly eviction?: {
    readonly client: KubeRequester;
    readonly procRoot?: string | undefined;
    readonly fs?: AgentFs | undefined;
    readonly nodeMemory?: NodeMemorySource | undefined;
    /** How often the Node's conditions are re-evaluated (default 10 s, kubelet's status period). */
    readonly conditionsIntervalMs?: number | undefined;
  };
  /**
   * Drift check period: every plan pod is re-read (and what drifted rewritten, new processes given their
   * oom_score_adj) once per period, a few pods at a time spread over it (default 10 s here; the CLI's is 5 min).
   */
  readonly resyncMs?: number;
  /** Pods re-read per drift check step (default 10): 110 pods are 11 steps per period. */
  readonly driftPodsPerStep?: number;
  /** Longest time between status writes while only pressure/quota change (default 10 s). */
  readonly statusIntervalMs?: number;
  readonly stallMs?: number;
  /**
   * The kubepods directories to watch (inotify): a pod or container cgroup that appears is given its plan (or
   * provisional) values at once instead of at the next resync. Absent: resync only.
   */
  readonly cgroupWatch?: Pick<CgroupWatcherOptions, 'hierarchies' | 'driver'>;
  /** /healthz fails when no step (apply, restore, resync) completed for this long (default max(60 s, 3 resyncs)). */
  readonly healthBoundMs?: number;
  readonly now?: () => number;
}

export class AgentRuntime {
  private readonly options: AgentRuntimeOptions;
  private readonly plans: Informer<CachedPlan | InvalidPlan> | undefined;
  private readonly pods: Informer<CachedPod> | undefined;
  private plan: NodeIsolationPlan | undefined;
  private readonly suppress: SuppressRunner;
  private topology: Topology | undefined;
  private lastReport: PlanApplyReport | undefined;
  /** The latest plan from the API server when it was refused: status stays Degraded until a good one arrives. */
  private refusal: PlanApplyReport | undefined;
  private readonly status: StatusPublisher;
  private netUnsupported: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private resyncTimer: NodeJS.Timeout | undefined;
  private podsChanged: NodeJS.Timeout | undefined;
  private cgroups: CgroupTrigger | undefined;
  private readonly eviction: EvictionRunner | undefined;
  private readonly conditions: NodeConditionsPublisher | undefined;
  private conditionsTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly drift: DriftCursor;
  /** The pods of the last plan applied, provisional ones included: what the drift check walks through. */
  private appliedUids: string[] = [];
  /** When the last queued step completed without throwing; the liveness probe's clock. */
  private readonly steps: StepClock;
  applies = 0;

  constructor(options: AgentRuntimeOptions) {
    this.options = options;
    const resyncMs = options.resyncMs ?? 10_000;
    this.steps = new StepClock(
      options.now ?? Date.now,
      options.healthBoundMs ?? Math.max(60_000, 3 * resyncMs),
    );
    this.suppress = new SuppressRunner(options);
    this.drift = new DriftCursor(options.driftPodsPerStep ?? 10);
    this.status = new StatusPublisher(
      options.kube?.writeStatus,
      options.statusIntervalMs ?? 10_000,
      options.logger,
    );
    if (options.kube) {
      const informers = runtimeInformers(
        options.kube,
        {
          planChanged: plan => {
            this.enqueue(() => this.fromApi(plan));
          },
          planDeleted: () => {
            this.enqueue(() => this.restoreAll());
          },
          podsMoved: () => {
            this.schedulePodRefresh();
          },
        },
        { stallMs: options.stallMs ?? 120_000, logger: options.logger },
      );
      this.plans = informers.plans;
      this.pods = informers.pods;
    }
    const eviction = options.eviction;
    if (eviction) {
      const pods = this.pods;
      this.eviction = new EvictionRunner({
        nodeName: options.agent.nodeName,
        client: eviction.client,
        fs: eviction.fs ?? nodeFs,
        layout: layoutFor(options.agent.mode),
        procRoot: eviction.procRoot ?? '/proc',
        pods: () => pods?.list() ?? [],
        beQuotaUs: () => this.suppress.state()?.quotaUs,
        logger: options.logger,
        registry: options.registry,
        nodeMemory: eviction.nodeMemory,
        onRound: () => {
          this.enqueue(() => this.writeStatusIfDue());
        },
      });
      this.conditions = new NodeConditionsPublisher({
        client: eviction.client,
        nodeName: options.agent.nodeName,
        logger: options.logger,
      });
    }
  }

  /** Re-evaluates the Node's conditions and patches them when one changed (or the heartbeat is due). */
  async publishConditions(): Promise<boolean> {
    if (!this.conditions) return false;
    return this.conditions.publish(
      {
        planStatus: this.status.last,
        eviction: this.eviction?.state(),
        settings: this.plan?.spec.eviction,
      },
      (this.options.now ?? Date.now)(),
    );
  }

  private scheduleConditions(): void {
    if (!this.conditions) return;
    this.conditionsTimer = setTimeout(() => {
      void this.publishConditions().finally(() => {
        if (!this.stopped) this.scheduleConditions();
      });
    }, this.options.eviction?.conditionsIntervalMs ?? 10_000);
    this.conditionsTimer.unref();
  }

  get currentPlan(): NodeIsolationPlan | undefined {
    return this.plan;
  }

  get report(): PlanApplyReport | undefined {
    return this.lastReport;
  }

  /**
   * Liveness: the agent is enforcing, that is, its steps (plan applies, restores, resyncs) keep completing. A stuck or
   * failing agent turns unhealthy after the bound, so the kubelet restarts it.
   */
  health(): RuntimeHealth {
    return this.steps.health(this.stopped);
  }

  get ready(): boolean {
    return this.plans?.hasSynced ?? true;
  }

  async start(): Promise<void> {
    this.topology = await this.options.agent.discoverTopology();
    const cached = await this.options.cache.load(this.options.agent.nodeName);
    if (cached.kind === 'corrupt')
      this.options.logger.warn(
        {
          path: this.options.cache.path,
          reason: cached.reason,
          movedTo: await this.options.cache.setAside(),
        },
        'local plan copy ignored',
      );
    if (cached.kind === 'ok') this.enqueue(() => this.applyPlan(cached.plan, 'local copy'));
    this.plans?.start();
    this.pods?.start();
    if (this.options.cgroupWatch) {
      this.cgroups = new CgroupTrigger({
        watch: this.options.cgroupWatch,
        logger: this.options.logger,
        enqueue: step => {
          this.enqueue(step);
        },
        reapply: uids => this.reapplyCurrent('new cgroup', { kind: 'changed', also: uids }),
      });
      this.cgroups.start();
    }
    this.scheduleResync();
    this.scheduleConditions();
    await this.chain;
  }

  /** Waits until every queued apply has run. */
  async idle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.chain;
      await current;
    } while (current !== this.chain);
  }

  private enqueue(step: () => Promise<void>): void {
    if (this.stopped) return;
    // Steps queued behind the one in flight are dropped once stop() is called: shutdown waits for one write
    // pass, not for a backlog of superseded plan versions (SIGTERM must finish within the grace period).
    this.chain = this.chain
      .then(async () => {
        if (this.stopped) return;
        await step();
        this.steps.completed();
      })
      .catch((error: unknown) => {
        this.steps.failed(errorMessage(error));
        this.options.logger.error(
          { error: errorMessage(error) },
          'agent step failed; will retry on the next resync',
        );
      });
  }

  /** The next drift check step, one share of the resync period after this one. */
  private scheduleResync(): void {
    const pods = this.plan ? this.appliedUids.length : 0;
    const stepMs = (this.options.resyncMs ?? 10_000) / this.drift.steps(pods);
    this.resyncTimer = setTimeout(() => {
      this.enqueue(() => this.driftStep());
      this.scheduleResync();
    }, stepMs);
    this.resyncTimer.unref();
  }

  /** Re-reads the drift cursor's next few pods (and whatever changed); network QoS once per round. */
  private async driftStep(): Promise<void> {
    const plan = this.plan;
    if (!plan) {
      await this.writeStatusIfDue();
      return;
    }
    const share = this.drift.next(this.appliedUids);
    await this.applyPlan(plan, 'resync', { kind: 'changed', also: share.pods }, share.roundStart);
  }

  /** A pod came or went: re-apply soon (within a tick) so new pods get their class values before the controller's plan. */
  private schedulePodRefresh(): void {
    if (this.podsChanged) return;
    this.podsChanged = setTimeout(() => {
      this.podsChanged = undefined;
      this.enqueue(() => this.reapplyCurrent('pods changed', { kind: 'changed' }));
    }, 100);
  }

  /** Re-applies the plan current when the step runs (not when it was queued: a newer plan may have arrived). */
  private async reapplyCurrent(source: string, scope: PassScope): Promise<void> {
    const plan = this.plan;
    if (plan) await this.applyPlan(plan, source, scope, false);
    else await this.writeStatusIfDue();
  }

  private withProvisionalPods(plan: NodeIsolationPlan): NodeIsolationPlan {
    const extra = this.pods ? provisionalPods(plan.spec, this.pods.list()) : [];
    if (extra.length === 0) return plan;
    return { ...plan, spec: { ...plan.spec, pods: [...plan.spec.pods, ...extra].slice(0, 1024) } };
  }

  /** A plan from the API server; one this build's schema rejects is refused (agent.applyPlan validates first). */
  private async fromApi(plan: CachedPlan | InvalidPlan): Promise<void> {
    if (!('invalid' in plan)) {
      await this.applyPlan(plan, 'api', { kind: 'changed' });
      return;
    }
    const report = await this.options.agent.applyPlan(plan.raw);
    this.lastReport = report;
    if (report.status === 'refused') this.noteRefusal(report, 'api');
    await this.writeStatusIfDue();
  }

  private noteRefusal(report: PlanRefused, source: string): void {
    if (source === 'api') this.refusal = report;
    this.options.logger.error(
      { source, reason: report.reason, issues: report.issues.slice(0, 5) },
      'plan refused; previous values kept',
    );
  }

  /**
   * Applies a plan in the given scope (default every pod). Network QoS is brought to the plan when the plan changed
   * or `network` says so (once per drift round), not on every pass for new cgroups.
   */
  private async applyPlan(
    plan: NodeIsolationPlan,
    source: string,
    scope: PassScope = { kind: 'all' },
    network = true,
  ): Promise<void> {
    const applied = this.withProvisionalPods(plan);
    const report = await this.options.agent.applyPlan(applied, scope);
    this.applies++;
    this.lastReport = report;
    if (report.status === 'refused') {
      this.noteRefusal(report, source);
    } else {
      if (source === 'api') this.refusal = undefined;
      this.appliedUids = applied.spec.pods.map(pod => pod.uid);
      // The same object is the same plan (drift steps and new-cgroup passes re-apply it): no canonical JSON of the
      // whole spec, twice, on every pass.
      const changedPlan = this.plan !== plan && canonicalJson(this.plan?.spec) !== canonicalJson(plan.spec);
      this.plan = plan;
      if (changedPlan) await this.adoptPlan(plan, report, source);
      await this.suppress.run(plan);
      if (network || changedPlan)
        this.netUnsupported =
          (await applyNetwork(this.options.agent, plan, this.options.logger)) ?? this.netUnsupported;
    }
    await this.writeStatusIfDue();
  }

  /** A new plan was applied: keep the local copy, log it, and hand its eviction settings to the runner. */
  private async adoptPlan(plan: NodeIsolationPlan, report: PlanApplied, source: string): Promise<void> {
    await this.options.cache.save(plan);
    this.options.logger.info(
      { source, generation: plan.metadata.generation, status: report.status, counts: report.counts },
      'plan applied',
    );
    this.eviction?.update(plan.spec);
  }

  private async restoreAll(): Promise<void> {
    this.eviction?.clear();
    await this.suppress.stop();
    const report = await this.options.agent.deletePlan();
    this.plan = undefined;
    this.lastReport = undefined;
    await this.options.cache.clear();
    this.options.logger.info({ restored: report.restored.length }, 'plan deleted: kubelet values restored');
  }

  /** The status as of now, or undefined when there is nothing to report (no plan seen yet). */
  private currentStatus(): PlanStatus | undefined {
    const report = this.refusal ?? this.lastReport;
    if (!report || (!this.plan && report.status !== 'refused')) return undefined;
    return planStatus({
      generation: this.plan?.metadata.generation,
      report,
      topology: this.topology,
      suppress: this.suppress.state(),
      eviction: this.eviction?.state(),
      extraUnsupported: this.netUnsupported,
      now: new Date().toISOString(),
      previous: this.status.last,
    });
  }

  private async writeStatusIfDue(): Promise<void> {
    await this.status.publish(this.currentStatus());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    clearTimeout(this.podsChanged);
    clearTimeout(this.conditionsTimer);
    this.cgroups?.close();
    this.plans?.stop();
    this.pods?.stop();
    await this.chain;
    await this.eviction?.stop();
    await this.suppress.stop();
  }
}
