// The BE suppress loop: every intervalMs it samples node CPU pressure, maps it through the plan's curve to a BE tier
// quota, and writes the next step toward it (step.ts) through the executor's sink, all in the same tick, so the
// quota reacts within one interval of the pressure crossing a curve point. Ticks never overlap; the next one is due
// intervalMs after the previous one started (monotonic clock), and stop() waits for a write in flight.
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { PlanSpec } from '../../api/plan.ts';
import { quotaAt, ratioAt } from '../../plan/suppress.ts';
import { messageOf } from '../fs.ts';
import { createSuppressMetrics, type SuppressMetrics } from './metrics.ts';
import type { SamplerSource } from './samplers/sampler.ts';
import type { SamplerFor } from './samplers/select.ts';
import { realScheduler, type Scheduler, type TimerHandle } from './scheduler.ts';
import { boundedTarget, nextQuota, type StepDecision, type StepReason } from './step.ts';

export type SuppressPlan = PlanSpec['cpuSuppress'];

/** Writes the BE tier's CFS quota in microseconds per cfsPeriodUs; -1 means unlimited. */
export type QuotaSink = (quotaUs: number) => Promise<void>;

export const unlimitedQuotaUs = -1;

export interface SuppressLoopOptions {
  readonly plan: SuppressPlan;
  readonly samplerFor: SamplerFor;
  readonly writeQuota: QuotaSink;
  /** Where the nodeqos_agent_* suppress series are registered; none when absent. */
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly scheduler?: Scheduler;
  /** Wall-clock milliseconds, only for lastWriteTime. */
  readonly wallClock?: () => number;
  /** The BE tier quota the executor found at start; -1 or absent: unlimited or unknown. */
  readonly initialQuotaUs?: number;
  /** Rewrite the held quota when nothing was written for this long, undoing outside edits; 0 never. */
  readonly resyncMs?: number;
}

export type SuppressOutcome =
  StepReason | 'resync' | 'disabled' | 'recovered' | 'no-sample' | 'sample-error' | 'write-error';

export interface SuppressState {
  readonly enabled: boolean;
  readonly running: boolean;
  readonly source: SamplerSource | undefined;
  readonly pressure: number | undefined;
  readonly ratio: number | undefined;
  readonly targetQuotaUs: number | undefined;
  /** The quota the kernel holds as far as the loop knows: its last successful write (-1 after recovery). */
  readonly quotaUs: number | undefined;
  readonly lastOutcome: SuppressOutcome | undefined;
  readonly lastWriteTime: string | undefined;
  /** The last sample or write error; a good sample clears it. */
  readonly lastError: string | undefined;
  readonly ticks: number;
  readonly writes: number;
}

type MutableState = { -readonly [K in keyof SuppressState]: SuppressState[K] };

const defaultResyncMs = 60_000;

export class SuppressLoop {
  #plan: SuppressPlan;
  readonly #samplerFor: SamplerFor;
  readonly #writeQuota: QuotaSink;
  readonly #metrics: SuppressMetrics | undefined;
  readonly #log: Logger;
  readonly #scheduler: Scheduler;
  readonly #wallClock: () => number;
  readonly #resyncMs: number;
  readonly #state: MutableState;
  #timer: TimerHandle | undefined;
  #chain: Promise<void> = Promise.resolve();
  #lastTickStart = 0;
  #lastWriteAt: number | undefined;

  constructor(options: SuppressLoopOptions) {
    this.#plan = options.plan;
    this.#samplerFor = options.samplerFor;
    this.#writeQuota = options.writeQuota;
    this.#metrics = options.registry === undefined ? undefined : createSuppressMetrics(options.registry);
    this.#log = options.logger ?? pino({ enabled: false });
    this.#scheduler = options.scheduler ?? realScheduler;
    this.#wallClock = options.wallClock ?? Date.now;
    this.#resyncMs = options.resyncMs ?? defaultResyncMs;
    this.#state = {
      enabled: options.plan.enabled,
      running: false,
      source: undefined,
      pressure: undefined,
      ratio: undefined,
      targetQuotaUs: undefined,
      quotaUs: options.initialQuotaUs,
      lastOutcome: undefined,
      lastWriteTime: undefined,
      lastError: undefined,
      ticks: 0,
      writes: 0,
    };
  }

  /** Runs the first tick at once, then one every plan.intervalMs. */
  start(): void {
    if (this.#state.running) return;
    this.#state.running = true;
    this.#arm(0);
  }

  /** Takes a new plan; the next tick uses it, and a changed interval re-arms the pending timer. */
  update(plan: SuppressPlan): void {
    const intervalChanged = plan.intervalMs !== this.#plan.intervalMs;
    this.#plan = plan;
    this.#state.enabled = plan.enabled;
    if (intervalChanged && this.#timer !== undefined) {
      this.#scheduler.clearTimer(this.#timer);
      this.#arm(this.#delayToNextTick());
    }
  }

  /** One sample-and-write, queued after any tick in flight. */
  async tick(): Promise<SuppressState> {
    const run = this.#chain.then(async () => this.#tickOnce());
    this.#chain = run;
    await run;
    return this.state();
  }

  /** Resolves when no tick is in flight. */
  async idle(): Promise<void> {
    await this.#chain;
  }

  /** Stops the timer and waits for the tick (and its write) in flight. */
  async stop(): Promise<void> {
    this.#state.running = false;
    if (this.#timer !== undefined) this.#scheduler.clearTimer(this.#timer);
    this.#timer = undefined;
    await this.#chain;
  }

  state(): SuppressState {
    return { ...this.#state };
  }

  #arm(delayMs: number): void {
    this.#timer = this.#scheduler.setTimer(() => {
      this.#timer = undefined;
      void this.#onTimer();
    }, delayMs);
  }

  async #onTimer(): Promise<void> {
    await this.tick();
    if (this.#state.running && this.#timer === undefined) this.#arm(this.#delayToNextTick());
  }

  #delayToNextTick(): number {
    return Math.max(0, this.#lastTickStart + this.#plan.intervalMs - this.#scheduler.now());
  }

  async #tickOnce(): Promise<void> {
    try {
      await this.#step(this.#plan);
    } catch (error) {
      // Only a bug gets here (samplers and the sink are caught inside); keep the loop alive and visible.
      this.#state.lastError = `suppress tick: ${messageOf(error)}`;
      this.#log.error({ err: error }, 'suppress tick failed');
    }
  }

  async #step(plan: SuppressPlan): Promise<void> {
    this.#lastTickStart = this.#scheduler.now();
    this.#state.ticks += 1;
    if (!plan.enabled) {
      await this.#recover();
      return;
    }
    const pressure = await this.#sample(plan);
    if (pressure === undefined) return;
    const ratio = ratioAt(plan.curve, pressure, plan.interpolation);
    const target = boundedTarget(quotaAt(plan, pressure), plan);
    const decision = nextQuota(this.#knownQuota(), target, plan);
    this.#state.pressure = pressure;
    this.#state.ratio = ratio;
    this.#state.targetQuotaUs = target;
    this.#metrics?.pressure.set(pressure);
    this.#metrics?.ratio.set(ratio);
    const outcome = this.#resyncDue(decision) ? 'resync' : decision.reason;
    this.#state.lastOutcome = outcome;
    if (decision.write || outcome === 'resync') await this.#write(decision.quotaUs, outcome);
  }

  async #sample(plan: SuppressPlan): Promise<number | undefined> {
    const sampler = this.#samplerFor(plan.pressureSource);
    this.#state.source = sampler.source;
    try {
      const pressure = await sampler.sample();
      if (pressure === undefined) {
        this.#state.lastOutcome = 'no-sample';
        return undefined;
      }
      if (!(pressure >= 0 && pressure <= 100))
        throw new RangeError(`${sampler.source} sampler returned ${pressure}, not a percent`);
      this.#state.lastError = undefined;
      return pressure;
    } catch (error) {
      this.#metrics?.sampleErrors.inc({ source: sampler.source });
      this.#state.lastOutcome = 'sample-error';
      this.#state.lastError = `sampling ${sampler.source} pressure: ${messageOf(error)}`;
      this.#log.warn(
        { err: error, source: sampler.source },
        'cpu pressure sample failed; BE quota left unchanged',
      );
      return undefined;
    }
  }

  /** Suppress disabled: give the BE tier its unlimited quota back, once. */
  async #recover(): Promise<void> {
    this.#state.lastOutcome = 'disabled';
    if (this.#state.quotaUs === unlimitedQuotaUs) return;
    this.#state.lastOutcome = 'recovered';
    await this.#write(unlimitedQuotaUs, 'recovered');
  }

  #knownQuota(): number | undefined {
    const quota = this.#state.quotaUs;
    return quota === unlimitedQuotaUs ? undefined : quota;
  }

  #resyncDue(decision: StepDecision): boolean {
    if (decision.write || this.#resyncMs <= 0 || this.#lastWriteAt === undefined) return false;
    return this.#scheduler.now() - this.#lastWriteAt >= this.#resyncMs;
  }

  async #write(quotaUs: number, outcome: SuppressOutcome): Promise<void> {
    const from = this.#state.quotaUs;
    try {
      await this.#writeQuota(quotaUs);
    } catch (error) {
      this.#metrics?.writeErrors.inc();
      this.#state.lastOutcome = 'write-error';
      this.#state.lastError = `writing BE quota ${quotaUs}: ${messageOf(error)}`;
      this.#log.error({ err: error, quotaUs }, 'BE quota write failed');
      return;
    }
    this.#state.quotaUs = quotaUs;
    this.#state.writes += 1;
    this.#state.lastWriteTime = new Date(this.#wallClock()).toISOString();
    this.#lastWriteAt = this.#scheduler.now();
    this.#metrics?.writes.inc();
    this.#metrics?.quota.set(quotaUs);
    this.#log.debug({ from, to: quotaUs, outcome, pressure: this.#state.pressure }, 'BE quota written');
  }
}
