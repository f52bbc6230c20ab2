// The running node agent: the last good plan (from the API server, else the local copy) applied again every
// resync interval, pods the plan does not know yet given their class values, the BE suppress loop, network
// QoS, and the plan's status. One apply at a time; a refused plan leaves the previous values in place.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeIsolationPlan } from '../../api/plan.ts';
import type { Topology } from '../../api/topology.ts';
import { canonicalJson } from '../../api/canonical-json.ts';
import { errorMessage } from '../../kube/errors.ts';
import { Informer, type InformerSource } from '../../kube/informer.ts';
import type { CachedPlan, CachedPod, InvalidPlan } from '../../kube/transforms.ts';
import type { NodeAgent, PlanApplyReport, PlanRefused } from '../apply-plan.ts';
import { SuppressLoop } from '../suppress/loop.ts';
import type { SamplerFor } from '../suppress/samplers/select.ts';
import type { PlanCache } from './plan-cache.ts';
import { planStatus, type PlanStatus } from './plan-status.ts';
import { provisionalPods } from '../../plan/provisional-pods.ts';
import { CgroupWatcher, type CgroupWatchEvent, type CgroupWatcherOptions } from '../watch/cgroup-watcher.ts';

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
  /** Re-apply period: new processes get their oom_score_adj, drifted values are rewritten (default 10 s). */
  readonly resyncMs?: number;
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

export interface RuntimeHealth {
  readonly ok: boolean;
  readonly reason?: string | undefined;
}

/** Status without the figures that change every sample (pressure only counts once it is known). */
function significantStatus(status: PlanStatus): string {
  return canonicalJson({
    ...status,
    lastAppliedTime: undefined,
    pressure: status.pressure === undefined ? undefined : 'known',
    beQuotaUs: undefined,
    suppressRatio: undefined,
  });
}

export class AgentRuntime {
  private readonly options: AgentRuntimeOptions;
  private readonly plans: Informer<CachedPlan | InvalidPlan> | undefined;
  private readonly pods: Informer<CachedPod> | undefined;
  private plan: NodeIsolationPlan | undefined;
  private suppress: SuppressLoop | undefined;
  private topology: Topology | undefined;
  private lastReport: PlanApplyReport | undefined;
  /** The latest plan from the API server when it was refused: status stays Degraded until a good one arrives. */
  private refusal: PlanApplyReport | undefined;
  private lastStatus: PlanStatus | undefined;
  private lastStatusAt = 0;
  private netUnsupported: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private resyncTimer: NodeJS.Timeout | undefined;
  private podsChanged: NodeJS.Timeout | undefined;
  private watcher: CgroupWatcher | undefined;
  /** A new-cgroup pass is queued (several directories appearing together are applied in one pass). */
  private cgroupPassQueued = false;
  private readonly attachRetries = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** When the last queued step completed without throwing; the liveness probe's clock. */
  private lastStepAt: number;
  private lastStepError: string | undefined;
  applies = 0;

  constructor(options: AgentRuntimeOptions) {
    this.options = options;
    this.lastStepAt = (options.now ?? Date.now)();
    const informerOptions = {
      stallMs: options.stallMs ?? 120_000,
      backoff: { initialMs: 500, maxMs: 30_000 },
      logger: options.logger,
    };
    if (options.kube) {
      this.plans = new Informer(
        options.kube.planSource,
        {
          onAdd: plan => {
            this.enqueue(() => this.fromApi(plan));
          },
          onUpdate: (before, after) => {
            if (canonicalJson(before.spec) !== canonicalJson(after.spec))
              this.enqueue(() => this.fromApi(after));
          },
          onDelete: () => {
            this.enqueue(() => this.restoreAll());
          },
        },
        informerOptions,
      );
      const podsMoved = (): void => {
        this.schedulePodRefresh();
      };
      this.pods = new Informer(
        options.kube.podSource,
        { onAdd: podsMoved, onUpdate: podsMoved, onDelete: podsMoved },
        informerOptions,
      );
    }
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
    const resyncMs = this.options.resyncMs ?? 10_000;
    const bound = this.options.healthBoundMs ?? Math.max(60_000, 3 * resyncMs);
    const since = (this.options.now ?? Date.now)() - this.lastStepAt;
    if (this.stopped || since <= bound) return { ok: true };
    const why = this.lastStepError === undefined ? 'a step is stuck' : `last error: ${this.lastStepError}`;
    return { ok: false, reason: `no agent step completed for ${Math.round(since / 1000)} s (${why})` };
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
    this.startCgroupWatch();
    this.scheduleResync();
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
    const now = this.options.now ?? Date.now;
    this.chain = this.chain
      .then(async () => {
        if (this.stopped) return;
        await step();
        this.lastStepAt = now();
        this.lastStepError = undefined;
      })
      .catch((error: unknown) => {
        this.lastStepError = errorMessage(error);
        this.options.logger.error(
          { error: errorMessage(error) },
          'agent step failed; will retry on the next resync',
        );
      });
  }

  private scheduleResync(): void {
    this.resyncTimer = setTimeout(() => {
      this.enqueue(() => this.reapplyCurrent('resync'));
      this.scheduleResync();
    }, this.options.resyncMs ?? 10_000);
    this.resyncTimer.unref();
  }

  private startCgroupWatch(): void {
    if (!this.options.cgroupWatch) return;
    this.watcher = new CgroupWatcher({
      ...this.options.cgroupWatch,
      onEvent: event => {
        this.onCgroupEvent(event);
      },
      onError: error => {
        this.options.logger.warn({ error: errorMessage(error) }, 'cgroup watch error');
      },
    });
    this.watcher.start();
  }

  /**
   * A pod or container cgroup appeared: apply the plan now, so the container runs isolated from its first moments.
   * The runtime creates the directory before it attaches the process, so one more pass follows shortly after for
   * the processes' oom_score_adj (a later process in the container inherits it).
   */
  private onCgroupEvent(event: CgroupWatchEvent): void {
    if (event.type === 'watch-limit' || event.type === 'watch-restored')
      this.options.logger.warn(
        { hierarchy: event.hierarchy, event: event.type },
        'cgroup watch degraded or back',
      );
    if (event.type !== 'container-added' && event.type !== 'pod-added') return;
    this.queueCgroupPass();
    const retry = setTimeout(() => {
      this.attachRetries.delete(retry);
      this.queueCgroupPass();
    }, 100);
    this.attachRetries.add(retry);
  }

  private queueCgroupPass(): void {
    if (this.cgroupPassQueued) return;
    this.cgroupPassQueued = true;
    this.enqueue(async () => {
      this.cgroupPassQueued = false;
      await this.reapplyCurrent('new cgroup');
    });
  }

  /** A pod came or went: re-apply soon (within a tick) so new pods get their class values before the controller's plan. */
  private schedulePodRefresh(): void {
    if (this.podsChanged) return;
    this.podsChanged = setTimeout(() => {
      this.podsChanged = undefined;
      this.enqueue(() => this.reapplyCurrent('pods changed'));
    }, 100);
  }

  /** Re-applies the plan current when the step runs (not when it was queued: a newer plan may have arrived). */
  private async reapplyCurrent(source: string): Promise<void> {
    const plan = this.plan;
    if (plan) await this.applyPlan(plan, source);
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
      await this.applyPlan(plan, 'api');
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

  private async applyPlan(plan: NodeIsolationPlan, source: string): Promise<void> {
    const report = await this.options.agent.applyPlan(this.withProvisionalPods(plan));
    this.applies++;
    this.lastReport = report;
    if (report.status === 'refused') {
      this.noteRefusal(report, source);
    } else {
      if (source === 'api') this.refusal = undefined;
      const changedPlan = canonicalJson(this.plan?.spec) !== canonicalJson(plan.spec);
      this.plan = plan;
      if (changedPlan) {
        await this.options.cache.save(plan);
        this.options.logger.info(
          { source, generation: plan.metadata.generation, status: report.status, counts: report.counts },
          'plan applied',
        );
      }
      await this.runSuppress(plan);
      await this.applyNetwork(plan);
    }
    await this.writeStatusIfDue();
  }

  private async runSuppress(plan: NodeIsolationPlan): Promise<void> {
    if (this.suppress) {
      this.suppress.update(plan.spec.cpuSuppress);
      return;
    }
    const initialQuotaUs = await this.options.agent.readBeTierQuota();
    this.suppress = new SuppressLoop({
      plan: plan.spec.cpuSuppress,
      samplerFor: this.options.samplerFor,
      writeQuota: this.options.agent.beTierQuotaSink(),
      registry: this.options.registry,
      logger: this.options.logger,
      ...(initialQuotaUs === undefined ? {} : { initialQuotaUs }),
    });
    this.suppress.start();
    await this.suppress.tick();
  }

  private async applyNetwork(plan: NodeIsolationPlan): Promise<void> {
    try {
      const result = await this.options.agent.applyNetwork(plan.spec.net.classes);
      if (!result) return;
      this.netUnsupported = result.status
        .filter(s => s.status === 'unsupported')
        .map(s => `net ${s.item}: ${s.message}`.slice(0, 256));
      if (result.commands.length > 0)
        this.options.logger.info({ commands: result.commands.length }, 'network QoS changed');
    } catch (error) {
      this.netUnsupported = [`net: ${errorMessage(error)}`.slice(0, 256)];
      this.options.logger.error({ error: errorMessage(error) }, 'network QoS not applied');
    }
  }

  private async restoreAll(): Promise<void> {
    await this.suppress?.stop();
    this.suppress = undefined;
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
      suppress: this.suppress?.state(),
      extraUnsupported: this.netUnsupported,
      now: new Date().toISOString(),
      previous: this.lastStatus,
    });
  }

  /** Worth a write: the first status, a change beyond the sampled figures, or the periodic refresh. */
  private statusDue(status: PlanStatus): boolean {
    if (this.lastStatus === undefined) return true;
    if (Date.now() - this.lastStatusAt >= (this.options.statusIntervalMs ?? 10_000)) return true;
    return significantStatus(status) !== significantStatus(this.lastStatus);
  }

  private async writeStatusIfDue(): Promise<void> {
    const write = this.options.kube?.writeStatus;
    const status = this.currentStatus();
    if (!write || !status || !this.statusDue(status)) return;
    try {
      await write(status);
      this.lastStatus = status;
      this.lastStatusAt = Date.now();
    } catch (error) {
      this.options.logger.warn({ error: errorMessage(error) }, 'plan status not written; enforcing anyway');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    clearTimeout(this.podsChanged);
    for (const retry of this.attachRetries) clearTimeout(retry);
    this.watcher?.close();
    this.plans?.stop();
    this.pods?.stop();
    await this.chain;
    await this.suppress?.stop();
  }
}
