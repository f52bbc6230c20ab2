// What the kernel says about a process (ours or a child's): resident memory and its peak from
// /proc/<pid>/status, CPU time from /proc/<pid>/stat. These are the counters process.memoryUsage().rss and
// process.cpuUsage() read for the calling process, available here for any pid.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcMemory {
  /** Resident set now (VmRSS), bytes. */
  readonly rssBytes: number;
  /** Peak resident set since the process started (VmHWM), bytes. */
  readonly peakRssBytes: number;
}

export function parseProcStatus(text: string): ProcMemory {
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`/proc/<pid>/status has no ${field} line`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/** utime + stime in clock ticks. The command name (field 2) may hold spaces and parentheses: skip past the last ')'. */
export function parseProcStatTicks(text: string): number {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0, so utime (14) and stime (15) are indexes 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime))
    throw new Error(`/proc/<pid>/stat: no utime/stime in "${text.slice(0, 120)}"`);
  return utime + stime;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isSafeInteger(ticksPerSecond) || ticksPerSecond <= 0)
    throw new Error(`getconf CLK_TCK gave ${ticksPerSecond}`);
  return ticksPerSecond;
}

export function procMemory(pid: number): ProcMemory {
  return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** User + system CPU time of a process so far, milliseconds (resolution: one clock tick, usually 10 ms). */
export function procCpuMs(pid: number): number {
  return (parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / clockTicks();
}
