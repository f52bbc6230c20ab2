// The time source of the suppress loop: a monotonic clock plus one-shot timers, injectable so tests drive ticks.
import { performance } from 'node:perf_hooks';

export interface TimerHandle {
  readonly id: unknown;
}

export interface Scheduler {
  /** Monotonic milliseconds (never jumps with wall-clock changes). */
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => ({ id: setTimeout(callback, delayMs) }),
  clearTimer: handle => {
    clearTimeout(handle.id as NodeJS.Timeout);
  },
};
