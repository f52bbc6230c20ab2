import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SuppressLoop, type SuppressPlan } from '../../../src/agent/suppress/loop.ts';
import { createFixedSampler } from '../../../src/agent/suppress/samplers/fixed.ts';
import type { PressureSampler } from '../../../src/agent/suppress/samplers/sampler.ts';
import { quotaAt } from '../../../src/plan/suppress.ts';
import { flush, ManualScheduler } from './fake-time.ts';
import { suppressDefaults } from '../../../src/api/defaults.ts';

// 16 CPUs, LS requests 8, system 1: base 7000m -> ceiling 700000 us, step 10% of it, deadband 1% of 16 CPUs.
const plan: SuppressPlan = {
  enabled: true,
  baseMilliCPU: 7000,
  cfsPeriodUs: 100000,
  floorQuotaUs: 10000,
  ceilingQuotaUs: 700000,
  curve: suppressDefaults.curve.map(point => ({ ...point })),
  interpolation: 'linear',
  pressureSource: 'utilization',
  intervalMs: 200,
  maxStepUpQuotaUs: 70000,
  deadbandQuotaUs: 16000,
};

/** Answers the scripted pressures in order, then repeats the last one; `undefined` and Errors are passed through. */
function scripted(values: readonly (number | undefined | Error)[]): PressureSampler & { calls: number } {
  const sampler = {
    source: 'utilization' as const,
    calls: 0,
    sample: (): Promise<number | undefined> => {
      const value = values[Math.min(sampler.calls, values.length - 1)];
      sampler.calls += 1;
      return value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
    },
  };
  return sampler;
}

interface Harness {
  readonly loop: SuppressLoop;
  readonly scheduler: ManualScheduler;
  readonly writes: number[];
  readonly registry: Registry;
}

function harness(
  sampler: PressureSampler,
  overrides: {
    plan?: SuppressPlan;
    sink?: (q: number) => Promise<void>;
    initialQuotaUs?: number;
    resyncMs?: number;
  } = {},
): Harness {
  const scheduler = new ManualScheduler();
  const writes: number[] = [];
  const registry = new Registry();
  const loop = new SuppressLoop({
    plan: overrides.plan ?? plan,
    samplerFor: () => sampler,
    writeQuota:
      overrides.sink ??
      (q => {
        writes.push(q);
        return Promise.resolve();
      }),
    registry,
    scheduler,
    wallClock: () => Date.UTC(2025, 0, 1, 0, 0, scheduler.time / 1000),
    ...(overrides.initialQuotaUs === undefined ? {} : { initialQuotaUs: overrides.initialQuotaUs }),
    resyncMs: overrides.resyncMs ?? 0,
  });
  return { loop, scheduler, writes, registry };
}

async function metricValue(registry: Registry, name: string): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find(m => m.name === name);
  return metric?.values[0]?.value;
}

describe('SuppressLoop', () => {
  it('ticks at once on start, then every intervalMs of the monotonic clock', async () => {
    const h = harness(createFixedSampler(30));
    h.loop.start();
    await h.scheduler.advance(1000);
    expect(h.scheduler.fired).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(h.writes).toEqual([700000]);
    await h.loop.stop();
  });

  it('decreases at once and climbs back by at most maxStepUpQuotaUs per interval', async () => {
    const h = harness(scripted([30, 80, 80, 30]));
    h.loop.start();
    await h.scheduler.advance(2000);
    expect(h.writes).toEqual([700000, 210000, 280000, 350000, 420000, 490000, 560000, 630000, 700000]);
    expect(h.loop.state()).toMatchObject({ quotaUs: 700000, pressure: 30, ratio: 1, writes: 9, ticks: 11 });
    await h.loop.stop();
  });

  it('writes a curve crossing on the very tick that samples it', async () => {
    const stepPlan: SuppressPlan = { ...plan, interpolation: 'step' };
    const h = harness(scripted([49.9, 49.9, 50, 80]), { plan: stepPlan });
    h.loop.start();
    await h.scheduler.advance(200);
    expect(h.writes).toEqual([700000]);
    await h.scheduler.advance(200);
    expect(h.scheduler.fired).toEqual([0, 200, 400]);
    expect(h.writes).toEqual([700000, 560000]);
    await h.scheduler.advance(200);
    expect(h.writes).toEqual([700000, 560000, 210000]);
    await h.loop.stop();
  });

  it('skips changes inside the deadband and writes once the drift reaches it', async () => {
    // 60% -> 443333 us, 61% -> 431666 (11667 below: skipped), 62% -> 420000 (23333 below the written value).
    const h = harness(scripted([60, 61, 62, 61.5]));
    h.loop.start();
    await h.scheduler.advance(600);
    expect(h.writes).toEqual([quotaAt(plan, 60), quotaAt(plan, 62)]);
    expect(h.writes).toEqual([443333, 420000]);
    expect(h.loop.state()).toMatchObject({
      lastOutcome: 'deadband',
      quotaUs: 420000,
      targetQuotaUs: quotaAt(plan, 61.5),
    });
    await h.loop.stop();
  });

  it('holds the quota between the floor and the ceiling', async () => {
    const bounded: SuppressPlan = { ...plan, floorQuotaUs: 100000, ceilingQuotaUs: 500000 };
    const h = harness(scripted([0, 100, 100, 0]), { plan: bounded });
    h.loop.start();
    await h.scheduler.advance(1600);
    expect(h.writes).toEqual([500000, 100000, 170000, 240000, 310000, 380000, 450000, 500000]);
    expect(Math.min(...h.writes)).toBe(100000);
    await h.loop.stop();
  });

  it('takes a new plan while running and re-arms for a changed interval', async () => {
    const h = harness(createFixedSampler(30));
    h.loop.start();
    await h.scheduler.advance(100);
    expect(h.scheduler.pending).toEqual([200]);
    h.loop.update({ ...plan, baseMilliCPU: 3000, ceilingQuotaUs: 300000, intervalMs: 1000 });
    expect(h.scheduler.pending).toEqual([1000]);
    await h.scheduler.advance(900);
    expect(h.writes).toEqual([700000, 300000]);
    expect(h.scheduler.pending).toEqual([2000]);
    await h.loop.stop();
  });

  it('gives the BE tier its unlimited quota back once when suppress is disabled', async () => {
    const h = harness(createFixedSampler(90));
    h.loop.start();
    await h.scheduler.advance(0);
    h.loop.update({ ...plan, enabled: false });
    await h.scheduler.advance(600);
    expect(h.writes).toEqual([quotaAt(plan, 90), -1]);
    expect(h.loop.state()).toMatchObject({ enabled: false, quotaUs: -1, lastOutcome: 'disabled' });
    await h.loop.stop();
  });

  it('treats an initial quota of -1 as unlimited: the first target is written whatever the deadband', async () => {
    const h = harness(createFixedSampler(20), { initialQuotaUs: -1 });
    await h.loop.tick();
    expect(h.writes).toEqual([700000]);
  });

  it('writes nothing until a delta sampler has two reads', async () => {
    const h = harness(scripted([undefined, 90]));
    const first = await h.loop.tick();
    expect(first).toMatchObject({ lastOutcome: 'no-sample', quotaUs: undefined });
    expect(h.writes).toEqual([]);
    await h.loop.tick();
    expect(h.writes).toEqual([quotaAt(plan, 90)]);
  });

  it('counts sample errors, leaves the quota alone and keeps ticking', async () => {
    const h = harness(scripted([30, new Error('/proc/stat: garbage'), 90]));
    h.loop.start();
    await h.scheduler.advance(200);
    expect(h.loop.state()).toMatchObject({ lastOutcome: 'sample-error', quotaUs: 700000 });
    expect(h.loop.state().lastError).toContain('/proc/stat: garbage');
    expect(await metricValue(h.registry, 'nodeqos_agent_suppress_sample_errors_total')).toBe(1);
    await h.scheduler.advance(200);
    expect(h.writes).toEqual([700000, quotaAt(plan, 90)]);
    await h.loop.stop();
  });

  it('retries a failed write on the next tick and keeps the last quota that was written', async () => {
    const writes: number[] = [];
    let failures = 1;
    const sink = (q: number): Promise<void> => {
      if (q < 700000 && failures-- > 0) return Promise.reject(new Error('EINVAL'));
      writes.push(q);
      return Promise.resolve();
    };
    const h = harness(scripted([30, 90]), { sink });
    h.loop.start();
    await h.scheduler.advance(200);
    expect(h.loop.state()).toMatchObject({ lastOutcome: 'write-error', quotaUs: 700000 });
    expect(await metricValue(h.registry, 'nodeqos_agent_suppress_write_errors_total')).toBe(1);
    await h.scheduler.advance(200);
    expect(writes).toEqual([700000, quotaAt(plan, 90)]);
    await h.loop.stop();
  });

  it('rewrites the held quota after resyncMs without a write', async () => {
    const h = harness(createFixedSampler(30), { resyncMs: 1000 });
    h.loop.start();
    await h.scheduler.advance(1000);
    expect(h.writes).toEqual([700000, 700000]);
    expect(h.loop.state().lastOutcome).toBe('resync');
    await h.loop.stop();
  });

  it('exports pressure, ratio, quota and the write count', async () => {
    const h = harness(createFixedSampler(65));
    await h.loop.tick();
    expect(await metricValue(h.registry, 'nodeqos_agent_cpu_pressure_percent')).toBe(65);
    expect(await metricValue(h.registry, 'nodeqos_agent_suppress_ratio')).toBeCloseTo(0.55);
    expect(await metricValue(h.registry, 'nodeqos_agent_be_quota_us')).toBe(385000);
    expect(await metricValue(h.registry, 'nodeqos_agent_suppress_writes_total')).toBe(1);
    expect(h.loop.state()).toMatchObject({ source: 'fixed', lastWriteTime: '2025-01-01T00:00:00.000Z' });
  });

  it('stop() waits for the write in flight and leaves no timer behind', async () => {
    let release: () => void = () => undefined;
    const writes: number[] = [];
    const sink = (q: number): Promise<void> =>
      new Promise(resolve => {
        release = () => {
          writes.push(q);
          resolve();
        };
      });
    const h = harness(createFixedSampler(30), { sink });
    h.loop.start();
    await h.scheduler.advance(0);
    let stopped = false;
    const stopping = h.loop.stop().then(() => {
      stopped = true;
    });
    await flush();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(writes).toEqual([700000]);
    expect(h.scheduler.pending).toEqual([]);
    expect(h.loop.state()).toMatchObject({ running: false, quotaUs: 700000 });
  });

  it('runs on the real timers too', async () => {
    const writes: number[] = [];
    const loop = new SuppressLoop({
      plan: { ...plan, intervalMs: 50 },
      samplerFor: () => createFixedSampler(80),
      writeQuota: q => {
        writes.push(q);
        return Promise.resolve();
      },
    });
    loop.start();
    await expect.poll(() => loop.state().ticks, { timeout: 2000 }).toBeGreaterThanOrEqual(3);
    await loop.stop();
    expect(writes).toEqual([210000]);
  });
});
