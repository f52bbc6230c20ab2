// I/O interference on the disk under the temporary directory (a file on the real disk, no loop device): LS reads
// 4 KiB at random offsets of its own file with O_DIRECT on a fixed timetable, next to a BE process writing its own
// file sequentially in 1 MiB O_DIRECT writes (cgroup v1 blkio only throttles direct I/O; buffered writeback escapes
// it). LS latency is from the intended start of each read; BE throughput from /proc/<pid>/io while LS runs.
import { open, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadAverage1m } from './machine.ts';
import { BenchNode, type NodeShape } from './node.ts';
import { Workload } from './processes.ts';
import { sampleColumns } from './stats.ts';
import type { Variant } from './variants.ts';

export interface IoRun {
  readonly variant: string;
  /** LS read latency from the intended start, µs (empty for the BE-alone row). */
  readonly latency: number[];
  readonly beBytesPerSec: number;
  readonly load1m: number;
  /** The throttle rules the agent wrote on the BE pod (nodeqos row). */
  readonly beThrottle: string;
}

export interface IoParams {
  readonly binary: string;
  readonly shape: NodeShape;
  readonly dir: string;
  readonly lsFileMiB: number;
  readonly beFileMiB: number;
  readonly periodUs: number;
  readonly durationMs: number;
  readonly warmMs: number;
}

/** Real data, fsynced: O_DIRECT reads of a sparse or unwritten range would never reach the disk. */
export async function writeFilled(path: string, mib: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < mib; i++) {
      chunk.fill(i & 255);
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function removeFiles(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map(p => rm(p, { force: true })));
}

function writeBytes(pid: number): number {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/^write_bytes: (\d+)$/m.exec(text)?.[1] ?? NaN);
}

function startReader(params: IoParams, node: BenchNode): Promise<Workload> {
  const args = [
    'ioread',
    join(params.dir, 'ls.dat'),
    String(params.lsFileMiB),
    String(params.periodUs),
    String(params.durationMs),
  ];
  return Workload.start(params.binary, args, node.dirsOf('ls'));
}

function startWriter(params: IoParams, node: BenchNode): Promise<Workload> {
  // Writes until killed after the measured window (its own deadline is only a backstop).
  const durationMs = params.warmMs + params.durationMs * 3 + 5_000;
  const args = ['iowrite', join(params.dir, 'be.dat'), String(params.beFileMiB), String(durationMs)];
  return Workload.start(params.binary, args, node.dirsOf('be'));
}

/** LS reads for its duration (or, without LS, the same time passes); BE bytes written meanwhile. */
async function window(params: IoParams, ls: Workload | undefined, be: Workload | undefined): Promise<number> {
  const w0 = be ? writeBytes(be.pid) : 0;
  const t0 = process.hrtime.bigint();
  if (ls) {
    ls.go();
    await ls.exited;
  } else await sleep(params.durationMs);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return be ? (writeBytes(be.pid) - w0) / seconds : 0;
}

/** A variant with noLs runs only the writer (its throughput is the BE baseline). */
export async function ioRun(params: IoParams, variant: Variant): Promise<IoRun> {
  const node = await BenchNode.create({
    shape: params.shape,
    setting: variant.setting,
    beIdle: variant.beIdle,
    containerThrottle: variant.containerThrottle,
  });
  const workloads: Workload[] = [];
  try {
    const ls = variant.noLs === true ? undefined : await startReader(params, node);
    if (ls) workloads.push(ls);
    const be = variant.setting === 'alone' ? undefined : await startWriter(params, node);
    if (be) workloads.push(be);
    await node.enforce(ls ? [ls.pid] : [], be ? [be.pid] : []);
    be?.go();
    await sleep(params.warmMs);
    const beBytesPerSec = await window(params, ls, be);
    const throttle = readFileSync(
      join(node.sandbox.dir('blkio', node.be, node.be.containers[0]), 'blkio.throttle.write_bps_device'),
      'utf8',
    ).trim();
    return {
      variant: variant.label,
      latency: ls ? sampleColumns(ls.lines).a : [],
      beBytesPerSec,
      load1m: loadAverage1m(),
      beThrottle: throttle.replaceAll('\n', ','),
    };
  } finally {
    await Promise.all(workloads.map(w => w.kill()));
    await node.close();
  }
}
