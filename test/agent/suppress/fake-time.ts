// A scheduler the test moves by hand: timers fire only inside advance(), in due order, and each fired tick is
// awaited (with its re-arm) before the clock moves on, so every test sees one exact sequence.
import type { Scheduler, TimerHandle } from '../../../src/agent/suppress/scheduler.ts';

interface PendingTimer {
  readonly at: number;
  readonly callback: () => void;
}

/** Lets every queued promise callback run (samplers and sinks in these tests never do I/O). */
export async function flush(): Promise<void> {
  await new Promise<void>(resolve => setImmediate(resolve));
}

export class ManualScheduler implements Scheduler {
  time = 0;
  readonly fired: number[] = [];
  readonly #timers = new Map<number, PendingTimer>();
  #nextId = 0;

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.time + delayMs, callback });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle.id as number);
  }

  get pending(): number[] {
    return [...this.#timers.values()].map(t => t.at).sort((a, b) => a - b);
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await flush();
    for (;;) {
      const next = [...this.#timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined || next[1].at > end) break;
      this.#timers.delete(next[0]);
      this.time = next[1].at;
      this.fired.push(this.time);
      next[1].callback();
      await flush();
    }
    this.time = end;
  }
}
