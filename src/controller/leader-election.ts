// Leader election on a Lease (client-node has none), after client-go's leaderelection: acquire when the
// lease is free or expired, renew every retry period, and stop leading when a renewal has not succeeded for
// renewDeadline — which is shorter than the lease duration, so the old leader stops before anyone else can
// take over and there are never two writers.
import type { Logger } from 'pino';
import { errorMessage } from '../kube/errors.ts';
import type { Lease, LeaseClient } from '../kube/lease-client.ts';

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
  readonly now?: () => number;
}

/** Lease times are metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly client: LeaseClient;
  private readonly options: LeaderElectionOptions;
  private leading = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private cycle: Promise<void> = Promise.resolve();

  constructor(client: LeaseClient, options: LeaderElectionOptions) {
    this.client = client;
    this.options = options;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  start(): void {
    this.stopped = false;
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.cycle = this.tryAcquireOrRenew().then(() => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.tick();
      }, this.options.retryPeriodMs);
    });
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = this.now();
    try {
      const lease = await this.client.get();
      if (await this.claim(lease, now)) {
        this.lastRenew = now;
        this.setLeading(true);
        return;
      }
      this.setLeading(false);
    } catch (error) {
      this.options.logger.warn(
        { lease: this.options.name, error: errorMessage(error) },
        'lease renewal failed',
      );
    }
    if (this.leading && this.now() - this.lastRenew >= this.options.renewDeadlineMs) this.setLeading(false);
  }

  /** Returns true when this identity holds the lease after the call. */
  private async claim(lease: Lease | undefined, now: number): Promise<boolean> {
    const { identity, namespace, name, leaseDurationMs } = this.options;
    const durationSeconds = Math.ceil(leaseDurationMs / 1000);
    if (!lease) {
      await this.client.create({
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      return true;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const renewedAt = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : 0;
    const expired = renewedAt + (lease.spec.leaseDurationSeconds ?? durationSeconds) * 1000 <= now;
    if (holder !== identity && holder !== '' && !expired) return false;
    const takingOver = holder !== identity;
    await this.client.replace({
      metadata: lease.metadata,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: takingOver ? microTime(now) : lease.spec.acquireTime,
        renewTime: microTime(now),
        leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      },
    });
    return true;
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
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
