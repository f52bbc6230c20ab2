// API server faults, chosen by the seeded PRNG: dropped and stalled watches, forced 410s, 429/500/503 (with
// Retry-After for 429 and 503) on a chosen slice of requests, added latency for a while, and restarts with and
// without the watch history (behind the fault proxy: every watch cut, and with history lost the next watches get
// 410). The harness's own requests are spared (they carry the harness marker, or bypass the proxy).
import type { RequestInfo } from '../../src/devserver/index.ts';
import { plansResource } from './plan-history.ts';
import type { Random } from './prng.ts';
import { fromHarness, type ChaosWorld } from './world.ts';

export type FaultKind =
  | 'watches dropped'
  | 'watches stalled'
  | 'watch 410 Expired'
  | 'HTTP 429 Retry-After'
  | 'HTTP 500'
  | 'HTTP 503 Retry-After'
  | 'slow responses'
  | 'restart'
  | 'restart losing history';

const writeVerbs = new Set(['create', 'update', 'patch', 'delete']);

const targets: Readonly<Record<string, (request: RequestInfo) => boolean>> = {
  all: () => true,
  watches: r => r.verb === 'watch',
  lists: r => r.verb === 'list',
  writes: r => writeVerbs.has(r.verb),
  plans: r => r.resource === plansResource,
  leases: r => r.resource === 'leases.coordination.k8s.io',
  pods: r => r.resource === 'pods',
};

export const faultWeights: Readonly<Record<FaultKind, number>> = {
  'watches dropped': 2,
  'watches stalled': 1,
  'watch 410 Expired': 2,
  'HTTP 429 Retry-After': 2,
  'HTTP 500': 2,
  'HTTP 503 Retry-After': 2,
  'slow responses': 2,
  restart: 1,
  'restart losing history': 1,
};

export class FaultInjector {
  readonly counts = new Map<string, number>();
  /** Every fault in order, for a failing run's report. */
  readonly log: string[] = [];
  private readonly world: ChaosWorld;
  private readonly rng: Random;
  /** Step at which the latency rules in force are cleared. */
  private latencyUntil = -1;

  constructor(world: ChaosWorld, rng: Random) {
    this.world = world;
    this.rng = rng;
  }

  private matcher(): { name: string; match: (request: RequestInfo) => boolean } {
    const name = this.rng.pick(Object.keys(targets));
    const target = targets[name];
    return { name, match: request => !fromHarness(request) && (target?.(request) ?? false) };
  }

  private failNext(status: 429 | 500 | 503): string {
    const { name, match } = this.matcher();
    const count = this.rng.int(1, 4);
    this.world.api.faults.failNext({
      status,
      count,
      match,
      ...(status === 500 ? {} : { retryAfterSeconds: this.rng.int(1, 2) }),
    });
    return `${count} x ${name}`;
  }

  inject(kind: FaultKind, step: number): void {
    const faults = this.world.api.faults;
    let detail = '';
    switch (kind) {
      case 'watches dropped':
        faults.dropWatches();
        break;
      case 'watches stalled':
        faults.stallWatches();
        break;
      case 'watch 410 Expired':
        faults.expireNextWatches(this.rng.int(1, 3));
        break;
      case 'HTTP 429 Retry-After':
        detail = this.failNext(429);
        break;
      case 'HTTP 500':
        detail = this.failNext(500);
        break;
      case 'HTTP 503 Retry-After':
        detail = this.failNext(503);
        break;
      case 'slow responses': {
        const { name, match } = this.matcher();
        const ms = this.rng.int(20, 250);
        faults.addLatency(ms, match);
        this.latencyUntil = Math.max(this.latencyUntil, step + this.rng.int(3, 12));
        detail = `${ms} ms on ${name}`;
        break;
      }
      case 'restart':
        faults.restart({ loseHistory: false });
        break;
      case 'restart losing history':
        faults.restart({ loseHistory: true });
        break;
    }
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    this.log.push(`#${step} ${kind}${detail === '' ? '' : ` (${detail})`}`);
  }

  /** Ends latency whose time is up. */
  tick(step: number): void {
    if (this.latencyUntil >= 0 && step >= this.latencyUntil) {
      this.world.api.faults.clearLatency();
      this.latencyUntil = -1;
    }
  }

  /** The chaos is over: pending failures, latency and forced expiries go. (Stalled watches stay until noticed.) */
  calm(): void {
    this.world.api.faults.reset();
    this.latencyUntil = -1;
  }
}
