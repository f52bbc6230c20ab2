// What else the machine was doing: load average and, on the benchmark CPU, busy time that was not ours.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export function loadAverage1m(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

let ticks: number | undefined;
function nsPerTick(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return 1e9 / ticks;
}

export interface CpuTimes {
  readonly busyNs: number;
  readonly stealNs: number;
}

/** Busy (user nice system irq softirq) and steal time of one CPU so far, from its /proc/stat line. */
export function cpuTimes(cpu: number): CpuTimes {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find(l => l.startsWith(`cpu${cpu} `));
  if (line === undefined) throw new Error(`/proc/stat has no cpu${cpu} line`);
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0);
  return { busyNs: busy * nsPerTick(), stealNs: (f[7] ?? 0) * nsPerTick() };
}
