// The cgroup files the executor writes, per hierarchy version. A knob is named by its file name: that name is what
// reports, metrics and the original-values record use.
import type { CgroupVersion, Controller } from '../cgroup/layout.ts';
import {
  bpsRatesCodec,
  classidCodec,
  bytesCodec,
  cpuListCodec,
  cpuMaxCodec,
  intCodec,
  iopsRatesCodec,
  ioMaxCodec,
  maxQuotaUs,
  periodCodec,
  quotaCodec,
  weightCodec,
  type Codec,
  type CpuMax,
  type DeviceRates,
  type IoMax,
  v2CpuListCodec,
} from './codecs.ts';

export interface Knob<T> {
  readonly file: string;
  readonly controller: Controller;
  readonly codec: Codec<T>;
}

function knob<T>(file: string, controller: Controller, codec: Codec<T>): Knob<T> {
  return { file, controller, codec };
}

export const throttleFiles = {
  readBps: 'blkio.throttle.read_bps_device',
  writeBps: 'blkio.throttle.write_bps_device',
  readIops: 'blkio.throttle.read_iops_device',
  writeIops: 'blkio.throttle.write_iops_device',
} as const;

export interface V1Knobs {
  readonly version: 'v1';
  readonly shares: Knob<number>;
  /** SCHED_IDLE for the whole group (kernel 5.15+); written on the BE tier directory only. */
  readonly idle: Knob<number>;
  readonly quota: Knob<number>;
  readonly period: Knob<number>;
  readonly burst: Knob<number>;
  readonly cpus: Knob<string>;
  readonly mems: Knob<string>;
  readonly memoryLimit: Knob<number | null>;
  readonly memorySoftLimit: Knob<number | null>;
  /** blkio.weight (CFQ) first, else blkio.bfq.weight (BFQ), as runc picks them. */
  readonly blkioWeights: readonly Knob<number>[];
  readonly throttles: readonly {
    readonly key: 'readBps' | 'writeBps' | 'readIops' | 'writeIops';
    readonly knob: Knob<DeviceRates>;
  }[];
  /** net_cls.classid: only with network QoS on and a net_cls hierarchy mounted (the agent never mounts one). */
  readonly netClassid?: Knob<number> | undefined;
}

export interface V2Knobs {
  readonly version: 'v2';
  readonly weight: Knob<number>;
  readonly idle: Knob<number>;
  readonly cpuMax: Knob<CpuMax>;
  readonly burst: Knob<number>;
  readonly cpus: Knob<string>;
  readonly memoryMin: Knob<number | null>;
  readonly memoryLow: Knob<number | null>;
  readonly memoryHigh: Knob<number | null>;
  readonly memoryMax: Knob<number | null>;
  /** io.bfq.weight (unconverted 1..1000) when it exists, else io.weight "default N" (1..10000). */
  readonly bfqWeight: Knob<number>;
  readonly ioWeight: Knob<number>;
  readonly ioMax: Knob<IoMax>;
}

export type Knobs = V1Knobs | V2Knobs;

export function v1Knobs(pageSize: number, netClassids = false): V1Knobs {
  return {
    version: 'v1',
    netClassid: netClassids ? knob('net_cls.classid', 'net_cls', classidCodec) : undefined,
    shares: knob('cpu.shares', 'cpu', intCodec(2, 262144, 'cpu.shares')),
    idle: knob('cpu.idle', 'cpu', intCodec(0, 1, 'cpu.idle')),
    quota: knob('cpu.cfs_quota_us', 'cpu', quotaCodec),
    period: knob('cpu.cfs_period_us', 'cpu', periodCodec),
    burst: knob('cpu.cfs_burst_us', 'cpu', intCodec(0, maxQuotaUs, 'cpu.cfs_burst_us')),
    cpus: knob('cpuset.cpus', 'cpuset', cpuListCodec),
    mems: knob('cpuset.mems', 'cpuset', cpuListCodec),
    memoryLimit: knob('memory.limit_in_bytes', 'memory', bytesCodec('-1', pageSize)),
    memorySoftLimit: knob('memory.soft_limit_in_bytes', 'memory', bytesCodec('-1', pageSize)),
    blkioWeights: [
      knob('blkio.weight', 'blkio', weightCodec(10, 1000, 'plain')),
      knob('blkio.bfq.weight', 'blkio', weightCodec(1, 1000, 'plain')),
    ],
    throttles: [
      { key: 'readBps', knob: knob(throttleFiles.readBps, 'blkio', bpsRatesCodec) },
      { key: 'writeBps', knob: knob(throttleFiles.writeBps, 'blkio', bpsRatesCodec) },
      { key: 'readIops', knob: knob(throttleFiles.readIops, 'blkio', iopsRatesCodec) },
      { key: 'writeIops', knob: knob(throttleFiles.writeIops, 'blkio', iopsRatesCodec) },
    ],
  };
}

export function v2Knobs(pageSize: number): V2Knobs {
  return {
    version: 'v2',
    weight: knob('cpu.weight', 'cpu', intCodec(1, 10000, 'cpu.weight')),
    idle: knob('cpu.idle', 'cpu', intCodec(0, 1, 'cpu.idle')),
    cpuMax: knob('cpu.max', 'cpu', cpuMaxCodec),
    burst: knob('cpu.max.burst', 'cpu', intCodec(0, maxQuotaUs, 'cpu.max.burst')),
    cpus: knob('cpuset.cpus', 'cpuset', v2CpuListCodec),
    memoryMin: knob('memory.min', 'memory', bytesCodec('max', pageSize)),
    memoryLow: knob('memory.low', 'memory', bytesCodec('max', pageSize)),
    memoryHigh: knob('memory.high', 'memory', bytesCodec('max', pageSize)),
    memoryMax: knob('memory.max', 'memory', bytesCodec('max', pageSize)),
    bfqWeight: knob('io.bfq.weight', 'blkio', weightCodec(1, 1000, 'plain')),
    ioWeight: knob('io.weight', 'blkio', weightCodec(1, 10000, 'default')),
    ioMax: knob('io.max', 'blkio', ioMaxCodec),
  };
}

/** netClassids: write net_cls.classid (v1 only; the caller checks that a net_cls hierarchy is mounted). */
export function knobsFor(version: CgroupVersion, pageSize: number, netClassids = false): Knobs {
  return version === 'v1' ? v1Knobs(pageSize, netClassids) : v2Knobs(pageSize);
}

/** Every knob by file name: restoring a record looks its codec up here. */
export function knobsByFile(knobs: Knobs): Map<string, Knob<unknown>> {
  const list: Knob<unknown>[] =
    knobs.version === 'v1'
      ? [
          knobs.shares,
          knobs.quota,
          knobs.period,
          knobs.burst,
          knobs.cpus,
          knobs.mems,
          knobs.memoryLimit,
          knobs.memorySoftLimit,
          ...knobs.blkioWeights,
          ...knobs.throttles.map(t => t.knob),
          ...(knobs.netClassid ? [knobs.netClassid] : []),
        ]
      : [
          knobs.weight,
          knobs.cpuMax,
          knobs.burst,
          knobs.cpus,
          knobs.memoryMin,
          knobs.memoryLow,
          knobs.memoryHigh,
          knobs.memoryMax,
          knobs.bfqWeight,
          knobs.ioWeight,
          knobs.ioMax,
        ];
  return new Map(list.map(k => [k.file, k]));
}
