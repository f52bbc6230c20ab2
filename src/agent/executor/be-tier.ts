// The BE tier: the kubepods besteffort directory's CFS quota (the suppress loop's lever) with each BE-class pod's
// own quota capped at it, and the mechanisms' other writes on that directory (cpu.idle) once per plan pass.
import type { CpuMax } from '../mechanisms/core/codecs.ts';
import { maxQuotaUs } from '../mechanisms/core/codecs.ts';
import { quotaRatio } from '../mechanisms/core/leveled.ts';
import type { TierOriginals, TierPass, TierPlan } from '../mechanisms/core/mechanism.ts';
import type { PodReport } from '../mechanisms/core/report.ts';
import { effectiveQuota } from '../mechanisms/cpu/knobs.ts';
import { readTierQuota, tierQuotaOps } from '../mechanisms/cpu/tier-quota.ts';
import { mechanismOps, planDesired } from './apply-pass.ts';
import { guarded, hasFailures, podSession, tierSession, type PassContext } from './context.ts';
import type { CgroupSession, WriteOp } from './session.ts';
import { errnoOf, messageOf } from '../fs.ts';

export interface BeTierReport {
  readonly quotaUs: number;
  readonly periodUs: number;
  /** The kubepods besteffort directory. */
  readonly tier: PodReport;
  /** BE-class pods whose own quota was capped (or uncapped) with it. */
  readonly pods: PodReport[];
}

const defaultTierPeriodUs = 100000;

/** Why a BE tier quota may not be written, or undefined when it may. */
export function tierQuotaProblem(quotaUs: number): string | undefined {
  if (Number.isInteger(quotaUs) && (quotaUs === -1 || (quotaUs >= 1000 && quotaUs <= maxQuotaUs)))
    return undefined;
  return `BE tier quota ${quotaUs} is neither -1 nor 1000..${maxQuotaUs}`;
}

/** State and writes of the BE tier; every method runs under the executor's lock. */
export class BeTier {
  readonly #ctx: PassContext;
  #quota: CpuMax | null = null;
  /** False until the tier in force is written or read: a restarted agent must not uncap BE pods before. */
  #known = false;
  #periodUs = defaultTierPeriodUs;

  constructor(ctx: PassContext) {
    this.#ctx = ctx;
  }

  /** The BE tier quota in force (null: unlimited). */
  get quota(): CpuMax | null {
    return this.#quota;
  }

  /** Period of the BE tier quota (the plan's cpuSuppress.cfsPeriodUs). */
  setPeriod(periodUs: number): void {
    this.#periodUs = periodUs;
  }

  /** The quota a previous agent left on the besteffort directory is in force: BE pods outside it get it too. */
  async adoptIfUnknown(): Promise<void> {
    if (this.#known) return;
    const current = await readTierQuota(tierSession(this.#ctx), this.#ctx.mechanisms.cpu.cpu);
    if (current === undefined) return;
    this.#quota = current.quotaUs === -1 ? null : current;
    this.#known = true;
  }

  /**
   * Sets the BE tier quota (-1: unlimited) on the kubepods besteffort directory, and caps each BE-class pod's own
   * quota at it (pods with requests sit under burstable/ and would escape the tier otherwise). Lowering: pods
   * first, then the tier; raising: the tier first (a child may not exceed its parent on v1).
   */
  async write(quotaUs: number): Promise<BeTierReport> {
    const periodUs = this.#periodUs;
    const desired: CpuMax = { quotaUs, periodUs };
    this.#quota = quotaUs === -1 ? null : desired;
    this.#known = true;
    const knobs = this.#ctx.mechanisms.cpu.cpu;
    const tier = tierSession(this.#ctx);
    const current = await readTierQuota(tier, knobs);
    const lowering = current !== undefined && quotaRatio(desired) < quotaRatio(current);
    const pods: PodReport[] = [];
    if (lowering) pods.push(...(await this.#capBePods()));
    if (current !== undefined) await tier.commit(tierQuotaOps(tier, knobs, current, desired));
    if (!lowering) pods.push(...(await this.#capBePods()));
    tier.report.outcome = hasFailures(tier.report) ? 'failed' : 'applied';
    return { quotaUs, periodUs, tier: tier.report, pods };
  }

  /** The quota the besteffort directory holds now (-1 unlimited), or undefined when it cannot be read. */
  async read(): Promise<number | undefined> {
    return (await readTierQuota(tierSession(this.#ctx), this.#ctx.mechanisms.cpu.cpu))?.quotaUs;
  }

  async #capBePods(): Promise<PodReport[]> {
    const ctx = this.#ctx;
    const cpu = [ctx.mechanisms.cpu];
    const facts = { devices: [], beTier: this.#quota };
    const reports: PodReport[] = [];
    for (const pod of [...ctx.applied.values()].filter(p => p.qosClass === 'BE')) {
      const session = podSession(ctx, pod, true);
      await guarded(ctx, session, async () => {
        const desired = await planDesired(cpu, pod, facts, session);
        await session.commit(await mechanismOps(cpu, session, desired));
      });
      const report = session.report;
      if (report.outcome !== 'vanished') report.outcome = hasFailures(report) ? 'failed' : 'applied';
      if (!hasFailures(report)) ctx.metrics.setQuota(pod.uid, effectiveQuota(pod, this.#quota).quotaUs);
      reports.push(report);
    }
    return reports;
  }

  /**
   * The mechanisms' own writes on the tier directory (cpu.idle), one session for all; undefined when nothing was
   * read or written there. Each batch a pass yields is committed, originals saved first, before it goes on.
   */
  async planPass(plan: TierPlan): Promise<PodReport | undefined> {
    const tier = tierSession(this.#ctx);
    const store = this.#ctx.deps.store;
    const originals: TierOriginals = {
      lost: store.loadProblem !== undefined,
      get: file => store.tierOriginal(file),
      recordIfAbsent: (file, value) => {
        store.recordTierIfAbsent(file, value);
      },
    };
    for (const mechanism of this.#ctx.mechanisms.all) {
      if (!mechanism.tier) continue;
      if ((await this.#run(tier, mechanism.tier(tier, originals, plan))) === 'restored') {
        store.clearTier();
        await store.save();
      }
    }
    const report = tier.report;
    const touched =
      report.written.length + report.skipped.length + report.failed.length + report.unsupported.length;
    if (touched === 0) return undefined;
    report.outcome = hasFailures(report) ? 'failed' : 'applied';
    return report;
  }

  /** Drives a tier pass; an error while committing a batch is thrown into the pass (it reports it, or rethrows). */
  async #run(tier: CgroupSession, pass: TierPass): Promise<'restored' | 'kept'> {
    let step = await pass.next();
    while (step.done !== true) {
      try {
        await this.#commitTier(tier, step.value);
        step = await pass.next();
      } catch (error) {
        step = await pass.throw(error);
      }
    }
    return step.value;
  }

  /** Saves the originals first (never a write without them), then writes. */
  async #commitTier(tier: CgroupSession, ops: readonly WriteOp[]): Promise<void> {
    const store = this.#ctx.deps.store;
    try {
      await store.save();
    } catch (error) {
      for (const op of ops)
        tier.fail(
          { knob: op.file },
          errnoOf(error),
          `original values not saved to ${store.path}: ${messageOf(error)}`,
        );
      return;
    }
    await tier.commit(ops);
  }
}
