// Leader election under clock skew, against the embedded API server's Lease API: two replicas whose wall clocks are
// two minutes apart (far beyond the lease duration) never lead at the same time, a healthy leader keeps the lease,
// a dead or partitioned one is replaced within lease duration + retry period (+ the few requests it takes).
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { kubeLeaseClient, type LeaseClient } from '../../src/kube/lease-client.ts';
import { eventually } from '../support/eventually.ts';

const leaseDurationMs = 2000;
const renewDeadlineMs = 1400;
const retryPeriodMs = 200;
/** GET + PUT of the takeover and the GET that saw the last renewal, plus timer lateness on a busy machine. */
const requestSlackMs = 300;
const skewMs = 60_000;

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/** Who leads, checked at every transition: a replica may only start leading when nobody else does. */
class Witness {
  readonly leaders = new Set<string>();
  readonly violations: string[] = [];
  readonly started = new Map<string, number>();

  startedLeading(identity: string): void {
    if (this.leaders.size > 0)
      this.violations.push(`${identity} started leading while ${[...this.leaders].join(', ')} led`);
    this.leaders.add(identity);
    this.started.set(identity, performance.now());
  }

  stopped(identity: string): void {
    this.leaders.delete(identity);
  }
}

/** A lease client whose requests can be made to hang (a network partition) and then fail, as a timeout would. */
function partitionable(inner: LeaseClient): LeaseClient & { cut: boolean } {
  const hang = (): Promise<never> =>
    new Promise((_, reject) => {
      setTimeout(() => {
        reject(new Error('partitioned: request timed out'));
      }, 4000).unref();
    });
  const client = {
    cut: false,
    get: () => (client.cut ? hang() : inner.get()),
    create: (lease: Parameters<LeaseClient['create']>[0]) => (client.cut ? hang() : inner.create(lease)),
    replace: (lease: Parameters<LeaseClient['replace']>[0]) => (client.cut ? hang() : inner.replace(lease)),
  };
  return client;
}

let server: DevServer;
let witness: Witness;
const electors: LeaderElector[] = [];

function replica(
  identity: string,
  offsetMs: number,
): { elector: LeaderElector; client: ReturnType<typeof partitionable> } {
  const client = partitionable(kubeLeaseClient(new KubeHttp(server.kubeConfig()), 'default', 'skewed'));
  const elector = new LeaderElector(client, {
    identity,
    namespace: 'default',
    name: 'skewed',
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    logger: pino({ level: 'silent' }),
    clock: { wallMs: () => Date.now() + offsetMs },
    onStartedLeading: () => {
      witness.startedLeading(identity);
    },
    onStoppedLeading: () => {
      witness.stopped(identity);
    },
  });
  electors.push(elector);
  elector.start();
  return { elector, client };
}

/** Kills `leader` without releasing the lease; resolves to how long `next` took to lead. */
async function failover(leader: LeaderElector, next: string): Promise<number> {
  leader.abandon();
  const killedAt = performance.now();
  await eventually(() => witness.leaders.has(next), 10_000, 5);
  return (witness.started.get(next) ?? Infinity) - killedAt;
}

beforeEach(async () => {
  server = await startDevServer();
  witness = new Witness();
});

afterEach(async () => {
  for (const elector of electors.splice(0)) elector.abandon();
  await server.close();
});

describe('leader election with clocks skewed beyond the lease duration', () => {
  it('a healthy leader keeps the lease whichever way the clocks differ; a dead one is replaced within lease + retry', async () => {
    const a = replica('behind', -skewMs);
    await eventually(() => a.elector.isLeader);
    replica('ahead', skewMs);
    // The standby's clock reads the leader's renewTime as two minutes old: it must not take the lease.
    await sleep(2 * leaseDurationMs);
    expect([...witness.leaders]).toEqual(['behind']);

    const first = await failover(a.elector, 'ahead');
    const b = electors[1];
    if (!b) throw new Error('no second replica');
    // The other way round: to this standby the leader's renewTime lies two minutes in the future.
    replica('behind-again', -skewMs);
    await sleep(2 * leaseDurationMs);
    expect([...witness.leaders]).toEqual(['ahead']);
    const second = await failover(b, 'behind-again');

    console.log(
      `failover after a kill: ${first.toFixed(0)} ms and ${second.toFixed(0)} ms (lease ${leaseDurationMs} + retry ${retryPeriodMs} ms)`,
    );
    expect(first).toBeLessThanOrEqual(leaseDurationMs + retryPeriodMs + requestSlackMs);
    expect(second).toBeLessThanOrEqual(leaseDurationMs + retryPeriodMs + requestSlackMs);
    expect(witness.violations).toEqual([]);
  }, 30_000);

  it('a partitioned leader whose lease requests hang steps down on its renew deadline, before the standby leads', async () => {
    const a = replica('ahead', skewMs);
    await eventually(() => a.elector.isLeader);
    replica('behind', -skewMs);
    await sleep(leaseDurationMs);
    a.client.cut = true;
    const cutAt = performance.now();
    await eventually(() => witness.leaders.has('behind'), 10_000, 5);
    const takeover = (witness.started.get('behind') ?? Infinity) - cutAt;
    console.log(`failover after a partition: ${takeover.toFixed(0)} ms`);
    expect(a.elector.isLeader).toBe(false);
    expect(takeover).toBeLessThanOrEqual(leaseDurationMs + retryPeriodMs + requestSlackMs);
    expect(witness.violations).toEqual([]);
  }, 30_000);
});
