// The one component that writes to the kernel (cgroup files, oom_score_adj, net_cls.classid, the tc tree): applies
// plan pods, restores pods that left the plan, and writes the BE tier. What to write comes from the mechanisms
// (src/agent/mechanisms); the passes live in apply-pass.ts, restore-pass.ts and be-tier.ts. Calls are serialised,
// so the plan loop and the suppress loop never interleave.
import type { PlanPod } from '../../api/plan.ts';
import { listBlockDevices } from '../discovery/block-devices.ts';
import { errnoOf } from '../fs.ts';
import type { PlanNetClass } from '../net/layout.ts';
import type { CpuMax } from '../mechanisms/core/codecs.ts';
import type { Knob } from '../mechanisms/core/knob.ts';
import type { PlanFacts } from '../mechanisms/core/mechanism.ts';
import type { PodReport } from '../mechanisms/core/report.ts';
import { knobsByFile, mechanismsFor } from '../mechanisms/index.ts';
import { backoffReport, finishPod, preparePod, type PreparedPod } from './apply-pass.ts';
import { PodBackoff } from './backoff.ts';
import { BeTier, tierQuotaProblem, type BeTierReport } from './be-tier.ts';
import type { ExecutorOptions, PassContext } from './context.ts';
import { ExecutorMetrics } from './metrics.ts';
import type { NetApplyResult } from './net-qos.ts';
import { RestorePass } from './restore-pass.ts';
import { RewriteTracker } from './rewrite-tracker.ts';
import { podSpecKey, SettledPods } from './settled-pods.ts';

export type { BeTierReport, ExecutorOptions };

export interface ReconcileInput {
  readonly pods: readonly PlanPod[];
  /** Period of the BE tier quota (the plan's cpuSuppress.cfsPeriodUs). */
  readonly tierPeriodUs?: number | undefined;
  /** cpu.idle=1 on the BE tier directory (the plan's cpuSuppress.beIdle); false or absent: restored if changed. */
  readonly tierIdle?: boolean | undefined;
  /**
   * Which pods the pass reads and writes. 'all' (the default): every plan pod. 'changed': pods whose plan entry
   * (or, for BE pods, the tier quota) differs from the one they last settled with, pods not settled (new, failed,
   * vanished, backing off), and the pods in `also` (new cgroups, the drift check's share); the others keep their
   * last report and none of their files is touched.
   */
  readonly scope?: PassScope | undefined;
}

export type PassScope =
  { readonly kind: 'all' } | { readonly kind: 'changed'; readonly also?: ReadonlySet<string> | undefined };

export interface ReconcileResult {
  readonly applied: PodReport[];
  readonly restored: PodReport[];
  /** The BE tier directory's cpu.idle pass, when it read or wrote anything. */
  readonly tier?: PodReport | undefined;
}

export class CgroupExecutor {
  /** Every knob this node's mechanisms may write, by file name. */
  readonly knobs: ReadonlyMap<string, Knob<unknown>>;
  readonly metrics: ExecutorMetrics;
  readonly #options: ExecutorOptions;
  readonly #ctx: PassContext;
  readonly #restore: RestorePass;
  readonly #tier: BeTier;
  readonly #settled = new SettledPods();
  #lock: Promise<unknown> = Promise.resolve();

  constructor(options: ExecutorOptions) {
    const now = options.now ?? Date.now;
    this.#options = options;
    const mechanisms = mechanismsFor({
      version: options.layout.version,
      pageSize: options.pageSize ?? 4096,
      netClassids: options.netClassids === true && options.layout.hasController('net_cls'),
    });
    this.knobs = knobsByFile(mechanisms.all);
    this.metrics = new ExecutorMetrics(options.registry);
    this.#ctx = {
      options,
      mechanisms,
      metrics: this.metrics,
      applied: new Map(),
      deps: {
        fs: options.fs,
        layout: options.layout,
        store: options.store,
        metrics: this.metrics,
        logger: options.logger,
        rewrite: new RewriteTracker(options.forceRewriteIntervalMs ?? 60_000, now),
        refusals: {},
      },
      backoff: new PodBackoff({
        baseMs: options.backoffBaseMs ?? 1000,
        maxMs: options.backoffMaxMs ?? 300_000,
        now,
      }),
    };
    this.#restore = new RestorePass(this.#ctx);
    this.#tier = new BeTier(this.#ctx);
  }

  /** The BE tier quota in force (null: unlimited). */
  get beTier(): CpuMax | null {
    return this.#tier.quota;
  }

  #exclusive<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(async () => {
      const end = this.metrics.applyDuration.startTimer({ operation });
      try {
        return await work();
      } finally {
        end();
      }
    });
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Applies every plan pod, restores pods the agent changed that are no longer in the plan, then the tier's knobs. */
  reconcile(input: ReconcileInput): Promise<ReconcileResult> {
    return this.#exclusive('apply', async () => {
      const ctx = this.#ctx;
      if (input.tierPeriodUs !== undefined) this.#tier.setPeriod(input.tierPeriodUs);
      await this.#tier.adoptIfUnknown();
      await this.#restore.prepare();
      const devices = await listBlockDevices(this.#options.fs, this.#options.sysRoot);
      const facts = { devices, beTier: this.#tier.quota };
      const applied = await this.#applyPods(input.pods, input.scope ?? { kind: 'all' }, facts);
      const keep = new Set(input.pods.map(pod => pod.uid));
      this.#settled.keepOnly(keep);
      const restored: PodReport[] = [];
      for (const uid of this.#restore.candidates(keep)) restored.push(await this.#restore.restore(uid));
      for (const pod of input.pods) ctx.applied.set(pod.uid, pod);
      ctx.backoff.keepOnly(new Set([...keep, ...this.#restore.candidates(keep)]));
      const tier = await this.#tier.planPass({ idle: input.tierIdle === true });
      ctx.deps.rewrite.prune();
      return { applied, restored, tier };
    });
  }

  /**
   * Phase one reads every pod in scope and stages its writes; one durable save of the originals covers them all;
   * phase two writes. (One save per pod cost more than all the reads and writes together: docs/performance.md.)
   */
  async #applyPods(pods: readonly PlanPod[], scope: PassScope, facts: PlanFacts): Promise<PodReport[]> {
    const ctx = this.#ctx;
    const slots: (PodReport | PreparedPod)[] = [];
    for (const pod of pods) {
      const carried =
        scope.kind === 'changed' && scope.also?.has(pod.uid) !== true
          ? this.#settled.carried(pod.uid, podSpecKey(pod, facts))
          : undefined;
      slots.push(carried ?? backoffReport(ctx, pod, facts) ?? (await preparePod(ctx, pod, facts)));
    }
    let saveError: unknown;
    try {
      await ctx.deps.store.save();
    } catch (error) {
      saveError = error;
    }
    const applied: PodReport[] = [];
    for (const slot of slots) {
      if (!('session' in slot)) {
        applied.push(slot);
        continue;
      }
      const report = await finishPod(ctx, slot, facts, saveError);
      this.#settled.note(slot.pod.uid, slot.specKey, report);
      applied.push(report);
    }
    return applied;
  }

  /** Brings the interface's HTB tree to the plan's classes (undefined without network QoS). */
  applyNetwork(classes: readonly PlanNetClass[]): Promise<NetApplyResult | undefined> {
    const net = this.#options.net;
    if (!net) return Promise.resolve(undefined);
    return this.#exclusive('net', () => this.#counted(() => net.apply(classes)));
  }

  /** Deletes the HTB tree (plan deleted, restore): the interface gets the kernel's default root qdisc back. */
  removeNetwork(): Promise<NetApplyResult | undefined> {
    const net = this.#options.net;
    if (!net) return Promise.resolve(undefined);
    return this.#exclusive('net', () => this.#counted(() => net.remove()));
  }

  async #counted(run: () => Promise<NetApplyResult>): Promise<NetApplyResult> {
    try {
      const result = await run();
      if (result.commands.length > 0) this.metrics.writes.inc({ knob: 'tc' }, result.commands.length);
      return result;
    } catch (error) {
      this.metrics.writeErrors.inc({ knob: 'tc', errno: errnoOf(error) });
      throw error;
    }
  }

  /** Sets the BE tier quota (-1: unlimited) and caps BE-class pods at it (be-tier.ts has the ordering). */
  writeBeTierQuota(quotaUs: number): Promise<BeTierReport> {
    const problem = tierQuotaProblem(quotaUs);
    if (problem !== undefined) return Promise.reject(new RangeError(problem));
    return this.#exclusive('be_tier', () => this.#tier.write(quotaUs));
  }

  /** The quota the besteffort directory holds now (-1 unlimited), or undefined when it cannot be read. */
  readBeTierQuota(): Promise<number | undefined> {
    return this.#exclusive('be_tier', () => this.#tier.read());
  }
}
