// Leader election on a Lease (client-node has none), after client-go's leaderelection. Acquire when the lease is
// free or expired, renew every retry period, and stop leading when no renewal has succeeded for renewDeadline —
// which is shorter than the lease duration, so the old leader stops before anyone else can take over.
//
// "Expired" never reads the holder's timestamps: another replica's clock may be minutes off. As in client-go, a
// replica notes the local monotonic time at which it last saw the lease record change (holder, renewTime,
// acquireTime, transitions, duration) and counts the lease duration from there. So only the rate of the clocks
// matters, never their offset: a holder that stops renewing is replaced lease duration (+ at most one retry period,
// the delay before a standby sees its last renewal) after that renewal, whatever the two wall clocks read.
import type { Logger } from 'pino';
import { errorMessage } from '../kube/errors.ts';
import type { Lease, LeaseClient } from '../kube/lease-client.ts';

/** The clocks an elector reads; injectable so tests can skew them. */
export interface LeaderElectionClock {
  /** Wall-clock ms since the epoch: only for the acquireTime/renewTime written into the Lease, for people to read. */
  wallMs(): number;
  /** Monotonic ms: every expiry and deadline is measured on it. It must advance at the rate timers do. */
  monotonicMs(): number;
}

export interface LeaderElectionOptions {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly logger: Logger;
  readonly clock?: Partial<LeaderElectionClock>;
}

/** Lease times are metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The lease record as a value: any change in it is a sign of life from its holder. */
function recordOf(spec: Lease['spec']): string {
  return JSON.stringify([
    spec.holderIdentity ?? '',
    spec.renewTime ?? '',
    spec.acquireTime ?? '',
    spec.leaseTransitions ?? 0,
    spec.leaseDurationSeconds ?? 0,
  ]);
}

interface Observation {
  readonly record: string;
  readonly holder: string;
  /** Monotonic time at which this replica first saw this record. */
  readonly at: number;
  readonly durationMs: number;
}

export class LeaderElector {
  private readonly client: LeaseClient;
  private readonly options: LeaderElectionOptions;
  private readonly clock: LeaderElectionClock;
  private leading = false;
  /** Monotonic start of the last renewal that succeeded: the write landed after it. */
  private lastRenew = 0;
  private observed: Observation | undefined;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stopped = false;
  private cycle: Promise<void> = Promise.resolve();

  constructor(client: LeaseClient, options: LeaderElectionOptions) {
    if (!(options.renewDeadlineMs < options.leaseDurationMs))
      throw new Error(
        `leader election: renewDeadlineMs (${options.renewDeadlineMs}) must be below leaseDurationMs (${options.leaseDurationMs})`,
      );
    if (!(options.retryPeriodMs > 0 && options.retryPeriodMs < options.renewDeadlineMs))
      throw new Error(
        `leader election: retryPeriodMs (${options.retryPeriodMs}) must be positive and below renewDeadlineMs (${options.renewDeadlineMs})`,
      );
    this.client = client;
    this.options = options;
    this.clock = {
      wallMs: options.clock?.wallMs ?? Date.now,
      monotonicMs: options.clock?.monotonicMs ?? (() => performance.now()),
    };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private mono(): number {
    return this.clock.monotonicMs();
  }

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** One attempt per retry period, at a fixed rate; a standby also wakes when the lease it watches expires. */
  private tick(): void {
    if (this.stopped) return;
    const started = this.mono();
    this.cycle = this.tryAcquireOrRenew(started).then(() => {
      if (this.stopped) return;
      const now = this.mono();
      let next = started + this.options.retryPeriodMs;
      const expiry = this.otherHolderExpiry();
      // +1: timers may fire a fraction of a millisecond early on the monotonic clock.
      if (expiry !== undefined && expiry + 1 > now && expiry + 1 < next) next = expiry + 1;
      this.timer = setTimeout(
        () => {
          this.tick();
        },
        Math.max(0, next - now),
      );
    });
  }

  private async tryAcquireOrRenew(started: number): Promise<void> {
    try {
      const lease = await this.client.get();
      if (lease) this.observe(lease);
      if (!(await this.claim(lease))) {
        this.setLeading(false);
        return;
      }
      // Abandoned or stopped while the write was in flight: a dead replica must not start leading.
      if (this.stopped) return;
      // A write that took longer than the deadline landed, but this replica may already have stepped down, and a
      // standby counts from when it saw the write: lead again only from a renewal that was still in time.
      if (this.mono() - started < this.options.renewDeadlineMs) this.renewed(started);
    } catch (error) {
      this.options.logger.warn(
        { lease: this.options.name, error: errorMessage(error) },
        'lease renewal failed',
      );
    }
  }

  private observe(lease: Lease): void {
    const record = recordOf(lease.spec);
    if (this.observed?.record === record) return;
    this.observed = {
      record,
      holder: lease.spec.holderIdentity ?? '',
      at: this.mono(),
      durationMs: (lease.spec.leaseDurationSeconds ?? 0) * 1000,
    };
  }

  /** When another replica holds the lease: the monotonic time at which it expires unless its record changes. */
  private otherHolderExpiry(): number | undefined {
    const o = this.observed;
    if (!o || o.holder === '' || o.holder === this.options.identity) return undefined;
    return o.at + o.durationMs;
  }

  /** Returns true when this identity holds the lease after the call. */
  private async claim(lease: Lease | undefined): Promise<boolean> {
    const { identity, namespace, name, leaseDurationMs } = this.options;
    const durationSeconds = Math.ceil(leaseDurationMs / 1000);
    const wall = this.clock.wallMs();
    if (!lease) {
      const created = await this.client.create({
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(wall),
          renewTime: microTime(wall),
          leaseTransitions: 0,
        },
      });
      this.observe(created);
      return true;
    }
    const expiry = this.otherHolderExpiry();
    if (expiry !== undefined && this.mono() < expiry) return false;
    const holder = lease.spec.holderIdentity ?? '';
    const takingOver = holder !== identity;
    // A renewal must change the record, or standbys would see no sign of life: renewTime never repeats, even when
    // this replica's wall clock stalls or steps back.
    const previous = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : Number.NaN;
    const renewAt = !takingOver && previous >= wall ? previous + 1 : wall;
    const written = await this.client.replace({
      metadata: lease.metadata,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: takingOver ? microTime(wall) : lease.spec.acquireTime,
        renewTime: microTime(renewAt),
        leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      },
    });
    this.observe(written);
    return true;
  }

  /** Leads from a renewal that started at `started`, and steps down by itself when no later one succeeds in time. */
  private renewed(started: number): void {
    this.lastRenew = started;
    this.setLeading(true);
    clearTimeout(this.deadline);
    // On a timer, not at the next attempt: a renewal request can hang far longer than the deadline.
    this.deadline = setTimeout(
      () => {
        this.checkDeadline();
      },
      Math.max(0, started + this.options.renewDeadlineMs - this.mono()),
    );
  }

  private checkDeadline(): void {
    if (!this.leading) return;
    const late = this.mono() - this.lastRenew - this.options.renewDeadlineMs;
    if (late < 0) {
      this.deadline = setTimeout(() => {
        this.checkDeadline();
      }, Math.ceil(-late));
      return;
    }
    this.options.logger.warn(
      { lease: this.options.name, renewDeadlineMs: this.options.renewDeadlineMs },
      'lease not renewed within the renew deadline',
    );
    this.setLeading(false);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (!leading) clearTimeout(this.deadline);
    this.options.logger.info(
      { lease: this.options.name, identity: this.options.identity },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }

  /** Stops renewing and leading without releasing the lease, as a crashed replica would (tests, fatal errors). */
  abandon(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.setLeading(false);
  }

  /** Stops renewing; when leading, releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.cycle;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.client.get();
      if (lease?.spec.holderIdentity !== this.options.identity) return;
      await this.client.replace({
        metadata: lease.metadata,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 },
      });
    } catch (error) {
      this.options.logger.warn(
        { lease: this.options.name, error: errorMessage(error) },
        'lease release failed',
      );
    }
  }
}
