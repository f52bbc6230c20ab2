import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFixedSampler } from '../../../src/agent/suppress/samplers/fixed.ts';
import { createPsiSampler, parseCpuPressure } from '../../../src/agent/suppress/samplers/psi.ts';
import { createSamplerSelector } from '../../../src/agent/suppress/samplers/select.ts';
import {
  createUtilizationSampler,
  parseProcStat,
  utilizationPercent,
} from '../../../src/agent/suppress/samplers/utilization.ts';

const statLine = (fields: readonly number[]): string =>
  `cpu  ${fields.join(' ')}\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 12345\n`;

describe('utilization from /proc/stat', () => {
  it('counts user+nice+system+irq+softirq as busy, steal only in the total, guest in neither', () => {
    //                     user nice sys idle iowait irq softirq steal guest guest_nice
    const before = parseProcStat(statLine([100, 10, 50, 800, 20, 5, 5, 10, 40, 0]), 'stat');
    const after = parseProcStat(statLine([160, 20, 80, 860, 30, 10, 10, 30, 90, 5]), 'stat');
    // busy 60+10+30+5+5 = 110; idle+iowait+steal 60+10+20 = 90; guest deltas (50, 5) ignored.
    expect(utilizationPercent(before, after)).toBeCloseTo(55, 10);
  });

  it('adds 0 for a counter that steps back and yields undefined when no time passed', () => {
    const before = parseProcStat(statLine([100, 0, 100, 800, 50, 0, 0, 0]), 'stat');
    const iowaitBack = parseProcStat(statLine([150, 0, 150, 850, 40, 0, 0, 0]), 'stat');
    expect(utilizationPercent(before, iowaitBack)).toBeCloseTo(50 + 50 / 3, 10);
    expect(utilizationPercent(before, before)).toBeUndefined();
  });

  it('rejects malformed files with the file name and the reason', () => {
    expect(() => parseProcStat('intr 1 2 3\n', '/p/stat')).toThrow(
      /\/p\/stat: first line is not the aggregate "cpu" line/,
    );
    expect(() => parseProcStat('cpu  1 2 3 4\n', '/p/stat')).toThrow(/has 4 fields, expected at least 8/);
    expect(() => parseProcStat('cpu  1 2 x 4 5 6 7 8\n', '/p/stat')).toThrow(
      /cpu field system is not a counter: "x"/,
    );
    expect(() => parseProcStat('', '/p/stat')).toThrow(/\/p\/stat/);
  });
});

describe('PSI cpu pressure', () => {
  it('reads some avg10 in percent', () => {
    const text =
      'some avg10=12.50 avg60=4.59 avg300=2.69 total=17289491\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
    expect(parseCpuPressure(text, 'cpu')).toBe(12.5);
  });

  it('rejects files without a usable some avg10', () => {
    expect(() => parseCpuPressure('full avg10=1.00\n', '/p/pressure/cpu')).toThrow(
      /\/p\/pressure\/cpu: no "some" line/,
    );
    expect(() => parseCpuPressure('some avg60=1.00\n', 'f')).toThrow(/no avg10 field/);
    expect(() => parseCpuPressure('some avg10=abc avg60=1\n', 'f')).toThrow(/avg10 is not a percent: "abc"/);
    expect(() => parseCpuPressure('some avg10=100.01\n', 'f')).toThrow(/not a percent/);
  });
});

describe('samplers on a fake proc tree', () => {
  let procRoot = '';
  beforeEach(async () => {
    procRoot = await mkdtemp(join(tmpdir(), 'nodeqos-test-proc-'));
  });
  afterEach(async () => {
    await rm(procRoot, { recursive: true, force: true });
  });

  it('utilization: baseline first, then the percent since the previous read', async () => {
    const sampler = createUtilizationSampler({ procRoot });
    await writeFile(join(procRoot, 'stat'), statLine([100, 0, 100, 800, 0, 0, 0, 0, 0, 0]));
    expect(await sampler.sample()).toBeUndefined();
    await writeFile(join(procRoot, 'stat'), statLine([200, 0, 150, 850, 0, 0, 0, 0, 0, 0]));
    expect(await sampler.sample()).toBe(75);
    await writeFile(join(procRoot, 'stat'), statLine([200, 0, 150, 1050, 0, 0, 0, 0, 0, 0]));
    expect(await sampler.sample()).toBe(0);
  });

  it('psi: some avg10, and a clear error when the kernel has no PSI', async () => {
    const sampler = createPsiSampler({ procRoot });
    await expect(sampler.sample()).rejects.toThrow(
      /pressure\/cpu: cannot read \(kernel built without CONFIG_PSI\)/,
    );
    await mkdir(join(procRoot, 'pressure'));
    await writeFile(join(procRoot, 'pressure', 'cpu'), 'some avg10=42.00 avg60=1.00 avg300=0.50 total=99\n');
    expect(await sampler.sample()).toBe(42);
  });

  it('selector: one sampler per source, and --pressure overrides both', async () => {
    await writeFile(join(procRoot, 'stat'), statLine([1, 0, 1, 8, 0, 0, 0, 0]));
    const select = createSamplerSelector({ procRoot });
    expect(select('utilization')).toBe(select('utilization'));
    expect(select('psi').source).toBe('psi');
    const fixed = createSamplerSelector({ procRoot, fixedPressure: 70 });
    expect(fixed('utilization').source).toBe('fixed');
    expect(await fixed('psi').sample()).toBe(70);
  });
});

describe('fixed sampler', () => {
  it('accepts only a percent', () => {
    expect(() => createFixedSampler(-1)).toThrow(RangeError);
    expect(() => createFixedSampler(100.5)).toThrow(/between 0 and 100/);
    expect(() => createFixedSampler(Number.NaN)).toThrow(RangeError);
  });
});

describe('samplers on this machine', () => {
  it('utilization of /proc is a percent and sees a 250 ms CPU burn', async () => {
    const sampler = createUtilizationSampler({ procRoot: '/proc' });
    expect(await sampler.sample()).toBeUndefined();
    const until = performance.now() + 250;
    let spins = 0;
    while (performance.now() < until) spins += 1;
    const value = await sampler.sample();
    expect(spins).toBeGreaterThan(0);
    expect(value).toBeGreaterThan(10);
    expect(value).toBeLessThanOrEqual(100);
  });

  it('psi of /proc is a percent', async ctx => {
    if (!existsSync('/proc/pressure/cpu')) ctx.skip('no /proc/pressure/cpu on this kernel');
    const value = await createPsiSampler({ procRoot: '/proc' }).sample();
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(100);
  });
});
