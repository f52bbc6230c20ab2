import { describe, expect, it } from 'vitest';
import { parseProcStatTicks, parseProcStatus, procCpuMs, procMemory } from '../../bench/lib/proc.ts';

describe('/proc parsing', () => {
  it('reads VmRSS and VmHWM in bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t  999 kB\nVmHWM:\t   2048 kB\nVmRSS:\t   1024 kB\n';
    expect(parseProcStatus(status)).toEqual({ rssBytes: 1024 * 1024, peakRssBytes: 2048 * 1024 });
    expect(() => parseProcStatus('Name:\tnode\n')).toThrow(/VmRSS/);
  });

  it('adds utime and stime, even when the command name holds spaces and parentheses', () => {
    const fields = ['S', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '111', '222', '0', '0'];
    expect(parseProcStatTicks(`42 (a b) (c)) ${fields.join(' ')}`)).toBe(333);
    expect(() => parseProcStatTicks('42 (x) S 1')).toThrow(/utime/);
  });

  it('reports this process: CPU time grows while it computes, RSS is within its peak', () => {
    const before = procCpuMs(process.pid);
    const until = performance.now() + 300;
    let spins = 0;
    while (performance.now() < until) spins++;
    expect(spins).toBeGreaterThan(0);
    expect(procCpuMs(process.pid)).toBeGreaterThan(before);
    const memory = procMemory(process.pid);
    expect(memory.rssBytes).toBeGreaterThan(0);
    expect(memory.peakRssBytes).toBeGreaterThanOrEqual(memory.rssBytes);
  });
});
