// CPU interference: an LS service that wakes every PERIOD and burns WORK of CPU time (50 % of the benchmark CPU),
// next to two BE spinners on the same CPU. Per run: LS response (intended start to done) and wake-up delay, BE CPU
// time obtained while LS ran, and the busy time on that CPU that was neither (other work on the machine).
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuTimes, loadAverage1m } from './machine.ts';
import { BenchNode, type NodeShape } from './node.ts';
import { Workload } from './processes.ts';
import { fieldOf, sampleColumns } from './stats.ts';
import type { Variant } from './variants.ts';

export interface CpuRun {
  readonly variant: string;
  /** LS response times, µs. */
  readonly response: number[];
  /** LS wake-up delays, µs. */
  readonly wake: number[];
  readonly wallNs: number;
  readonly lsCpuNs: number;
  readonly beCpuNs: number;
  /** Busy time on the benchmark CPU that neither LS nor BE used. */
  readonly otherNs: number;
  readonly stealNs: number;
  readonly load1m: number;
  /** BE tier quota at the end of the run (nodeqos rows; -1 unlimited). */
  readonly beQuotaUs: number | undefined;
  /** Quota writes the suppress loop made during the whole run (nodeqos rows). */
  readonly suppressWrites: number | undefined;
}

export interface CpuParams {
  readonly binary: string;
  readonly shape: NodeShape;
  readonly periodUs: number;
  readonly workUs: number;
  readonly durationMs: number;
  /** BE runs (and the suppress loop settles) this long before LS starts measuring. */
  readonly warmMs: number;
  readonly spinners: number;
}

export async function cpuRun(params: CpuParams, variant: Variant): Promise<CpuRun> {
  const node = await BenchNode.create({
    shape: params.shape,
    setting: variant.setting,
    beIdle: variant.beIdle,
    tierIdle: variant.tierIdle,
  });
  const workloads: Workload[] = [];
  try {
    const ls = await Workload.start(
      params.binary,
      ['lscpu', String(params.periodUs), String(params.workUs), String(params.durationMs)],
      node.dirsOf('ls'),
    );
    workloads.push(ls);
    const be: Workload[] = [];
    if (variant.setting !== 'alone')
      for (let i = 0; i < params.spinners; i++)
        be.push(await Workload.start(params.binary, ['spin'], node.dirsOf('be')));
    workloads.push(...be);
    await node.enforce(
      [ls.pid],
      be.map(w => w.pid),
    );
    for (const w of be) w.go();
    await sleep(params.warmMs);
    const beCpu = (): number => be.reduce((sum, w) => sum + w.cpuNs(), 0);
    const cpu0 = cpuTimes(params.shape.cpu);
    const be0 = beCpu();
    const t0 = process.hrtime.bigint();
    ls.go();
    const done = await ls.waitFor(line => line.startsWith('cpu_ns '), params.durationMs * 4 + 10_000);
    const wallNs = Number(process.hrtime.bigint() - t0);
    const be1 = beCpu();
    const cpu1 = cpuTimes(params.shape.cpu);
    const beQuotaUs = variant.setting === 'nodeqos' ? node.beTierQuotaUs() : undefined;
    const suppressWrites = node.suppressState()?.writes;
    if (done === '') throw new Error(`LS probe exited early: ${JSON.stringify(ls.exit)}`);
    await ls.exited;
    const { a: wake, b: response } = sampleColumns(ls.lines);
    const lsCpuNs = fieldOf(ls.lines, 'cpu_ns')?.[0] ?? NaN;
    const beCpuNs = be1 - be0;
    return {
      variant: variant.label,
      response,
      wake,
      wallNs,
      lsCpuNs,
      beCpuNs,
      otherNs: Math.max(0, cpu1.busyNs - cpu0.busyNs - lsCpuNs - beCpuNs),
      stealNs: cpu1.stealNs - cpu0.stealNs,
      load1m: loadAverage1m(),
      beQuotaUs,
      suppressWrites,
    };
  } finally {
    await Promise.all(workloads.map(w => w.kill()));
    await node.close();
  }
}
