import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../../src/controller/work-queue.ts';

const options = { concurrency: 2, debounceMs: 100, maxWaitMs: 500, retry: { initialMs: 50, maxMs: 1000 } };

describe('WorkQueue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collapses a burst of adds for one key into one run after the quiet time', async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    const queue = new WorkQueue(async key => {
      runs.push(key);
    }, options);
    for (let i = 0; i < 1000; i++) {
      queue.add('node:a');
      await vi.advanceTimersByTimeAsync(0.3);
    }
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(150);
    expect(runs).toEqual(['node:a']);
  });

  it('runs a key no later than maxWait after its first add, even while adds keep coming', async () => {
    vi.useFakeTimers();
    const runs: number[] = [];
    const queue = new WorkQueue(async () => {
      runs.push(Date.now());
    }, options);
    const start = Date.now();
    for (let t = 0; t < 700; t += 50) {
      queue.add('k');
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect((runs[0] ?? Infinity) - start).toBeLessThanOrEqual(500);
  });

  it('never runs one key twice at once, and re-runs it when it was added while running', async () => {
    vi.useFakeTimers();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const queue = new WorkQueue(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await new Promise(resolve => setTimeout(resolve, 200));
      active--;
    }, options);
    queue.add('k');
    await vi.advanceTimersByTimeAsync(150);
    queue.add('k');
    await vi.advanceTimersByTimeAsync(1000);
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('bounds concurrency across keys', async () => {
    vi.useFakeTimers();
    let active = 0;
    let maxActive = 0;
    const queue = new WorkQueue(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise(resolve => setTimeout(resolve, 50));
      active--;
    }, options);
    for (let i = 0; i < 10; i++) queue.add(`k${i}`);
    await vi.advanceTimersByTimeAsync(2000);
    expect(maxActive).toBe(2);
  });

  it('retries failures with growing backoff, honouring Retry-After, and stops retrying after success', async () => {
    vi.useFakeTimers();
    const times: number[] = [];
    const errors: number[] = [];
    let failures = 3;
    const queue = new WorkQueue(
      async () => {
        times.push(Date.now());
        if (failures-- > 0)
          throw Object.assign(new Error('busy'), { retryAfterSeconds: failures === 0 ? 2 : undefined });
      },
      { ...options, onError: (_k, _e, delay) => errors.push(delay) },
    );
    queue.add('k');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times).toHaveLength(4);
    expect(errors).toHaveLength(3);
    expect(errors[2]).toBeGreaterThanOrEqual(2000);
    expect((times[3] ?? 0) - (times[2] ?? 0)).toBeGreaterThanOrEqual(2000);
  });

  it('idle() resolves when everything ran; stop() drops pending work', async () => {
    const runs: string[] = [];
    const queue = new WorkQueue(
      async key => {
        runs.push(key);
      },
      { ...options, debounceMs: 5, maxWaitMs: 10 },
    );
    queue.add('a');
    queue.add('b');
    await queue.idle();
    expect(runs.sort()).toEqual(['a', 'b']);
    queue.add('c');
    await queue.stop();
    queue.add('d');
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(runs.sort()).toEqual(['a', 'b']);
  });
});
