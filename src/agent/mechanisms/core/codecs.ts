// How each cgroup file's text maps to a value, which values the kernel accepts (never write one it rejects or
// silently clamps), when two values are the same, and the lines (one write(2) each) that set a value.
import { z } from 'zod';
import { canonicalCpuList, cpuListRegex, maxCpuId, parseCpuList } from '../../../api/cpulist.ts';

export interface Codec<T> {
  /** Shape of a value kept in the original-values record (JSON). */
  readonly schema: z.ZodType<T>;
  parse(text: string): T;
  /** Why the kernel would refuse or alter this value; undefined when it is in range. */
  invalid(value: T): string | undefined;
  equal(a: T, b: T): boolean;
  /** Lines to write to go from current to desired; with force, every line that sets desired. */
  lines(current: T, desired: T, force: boolean): string[];
  show(value: T): string;
}

/** Largest CFS quota or burst in microseconds the kernel takes (max_cfs_runtime, MAX_BW = 2^44 - 1 us). */
export const maxQuotaUs = 2 ** 44 - 1;
const unsignedIntMax = 4294967295;

function parseInteger(text: string, what: string): number {
  const trimmed = text.trim();
  if (!/^-?[0-9]+$/.test(trimmed)) throw new Error(`${what}: "${trimmed.slice(0, 64)}" is not an integer`);
  return Number(trimmed);
}

export function intCodec(min: number, max: number, what: string): Codec<number> {
  return {
    schema: z.int(),
    parse: text => parseInteger(text, what),
    invalid: value =>
      Number.isInteger(value) && value >= min && value <= max
        ? undefined
        : `${what} ${value} is outside ${min}..${max}`,
    equal: (a, b) => a === b,
    lines: (current, desired, force) => (force || current !== desired ? [String(desired)] : []),
    show: String,
  };
}

/** v1 cpu.cfs_quota_us: -1 (unlimited) or 1000..max. */
export const quotaCodec: Codec<number> = {
  ...intCodec(-1, maxQuotaUs, 'cpu.cfs_quota_us'),
  invalid: value =>
    value === -1 || (Number.isInteger(value) && value >= 1000 && value <= maxQuotaUs)
      ? undefined
      : `cfs quota ${value} is neither -1 nor 1000..${maxQuotaUs}`,
};

export const cpuListCodec: Codec<string> = {
  schema: z.string().regex(cpuListRegex),
  parse: text => canonicalCpuList(text),
  invalid: value => {
    if (!cpuListRegex.test(value)) return `cpu list "${value.slice(0, 64)}" is malformed`;
    try {
      return parseCpuList(value).length === 0 ? 'cpu list is empty' : undefined;
    } catch (error) {
      return error instanceof Error
        ? error.message
        : `cpu list "${value.slice(0, 64)}" is invalid (max cpu ${maxCpuId})`;
    }
  },
  equal: (a, b) => canonicalCpuList(a) === canonicalCpuList(b),
  lines: (current, desired, force) =>
    force || canonicalCpuList(current) !== canonicalCpuList(desired) ? [canonicalCpuList(desired)] : [],
  show: value => value,
};

/** v2 cpuset.cpus: empty is valid and means "the parent's CPUs" (what a fresh cgroup holds; restores write it back). */
export const v2CpuListCodec: Codec<string> = {
  ...cpuListCodec,
  invalid: value => (value === '' ? undefined : cpuListCodec.invalid(value)),
};

export interface CpuMax {
  readonly quotaUs: number;
  readonly periodUs: number;
}

/** v2 cpu.max: "<quota|max> <period>". */
export const cpuMaxCodec: Codec<CpuMax> = {
  schema: z.object({ quotaUs: z.int(), periodUs: z.int() }),
  parse: text => {
    const [quota, period] = text.trim().split(/\s+/);
    return {
      quotaUs: quota === 'max' ? -1 : parseInteger(quota ?? '', 'cpu.max quota'),
      periodUs: parseInteger(period ?? '', 'cpu.max period'),
    };
  },
  invalid: value => quotaCodec.invalid(value.quotaUs) ?? periodCodec.invalid(value.periodUs),
  equal: (a, b) => a.quotaUs === b.quotaUs && a.periodUs === b.periodUs,
  lines: (current, desired, force) =>
    force || !cpuMaxCodec.equal(current, desired) ? [cpuMaxCodec.show(desired)] : [],
  show: value => `${value.quotaUs === -1 ? 'max' : String(value.quotaUs)} ${value.periodUs}`,
};

export const periodCodec = intCodec(1000, 1000000, 'cfs period');

/** Memory sizes; null is unlimited. The kernel rounds to pages, so values are page-aligned before writing. */
export function bytesCodec(unlimitedText: 'max' | '-1', pageSize: number): Codec<number | null> {
  const align = (value: number): number => Math.floor(value / pageSize) * pageSize;
  const codec: Codec<number | null> = {
    schema: z.int().min(0).nullable(),
    parse: text => {
      const trimmed = text.trim();
      if (trimmed === 'max' || trimmed === '-1') return null;
      // v1 reports "unlimited" as PAGE_COUNTER_MAX pages (9223372036854771712): anything past 2^53 is unlimited.
      if (!/^[0-9]+$/.test(trimmed))
        throw new Error(`memory value "${trimmed.slice(0, 64)}" is not a byte count`);
      const big = BigInt(trimmed);
      return big > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(big);
    },
    invalid: value =>
      value === null || (Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER)
        ? undefined
        : `memory value ${value} is out of range`,
    equal: (a, b) => (a === null || b === null ? a === b : align(a) === align(b)),
    lines: (current, desired, force) =>
      force || !codec.equal(current, desired)
        ? [desired === null ? unlimitedText : String(align(desired))]
        : [],
    show: value => (value === null ? 'unlimited' : String(value)),
  };
  return codec;
}

/** blkio.weight / io.bfq.weight ("N" or "default N") and v2 io.weight ("default N"). */
export function weightCodec(min: number, max: number, style: 'plain' | 'default'): Codec<number> {
  const base = intCodec(min, max, 'weight');
  return {
    ...base,
    parse: text => {
      const defaultLine = text.split('\n').find(line => line.startsWith('default '));
      return parseInteger(defaultLine === undefined ? text : defaultLine.slice('default '.length), 'weight');
    },
    lines: (current, desired, force) =>
      force || current !== desired ? [style === 'default' ? `default ${desired}` : String(desired)] : [],
  };
}

/** v1 blkio.throttle.*_device: "MAJ:MIN rate" per line; 0 (or no line) is no limit, writing 0 removes a rule. */
export type DeviceRates = Readonly<Record<string, number>>;

export function deviceRatesCodec(maxRate: number): Codec<DeviceRates> {
  const rateOf = (rates: DeviceRates, device: string): number => rates[device] ?? 0;
  const devicesOf = (a: DeviceRates, b: DeviceRates): string[] =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const codec: Codec<DeviceRates> = {
    schema: z.record(z.string().regex(/^[0-9]+:[0-9]+$/), z.int().min(0)),
    parse: text => {
      const rates: Record<string, number> = {};
      for (const line of text.split('\n').filter(l => l.trim() !== '')) {
        const [device, rate] = line.trim().split(/\s+/);
        if (device !== undefined) rates[device] = parseInteger(rate ?? '', `throttle rate of ${device}`);
      }
      return rates;
    },
    invalid: value => {
      const bad = Object.entries(value).find(
        ([device, rate]) =>
          !/^[0-9]+:[0-9]+$/.test(device) || !Number.isInteger(rate) || rate < 0 || rate > maxRate,
      );
      return bad ? `throttle ${bad[0]} ${bad[1]} is outside 0..${maxRate}` : undefined;
    },
    equal: (a, b) => devicesOf(a, b).every(device => rateOf(a, device) === rateOf(b, device)),
    lines: (current, desired, force) =>
      devicesOf(current, desired)
        .filter(
          device =>
            rateOf(current, device) !== rateOf(desired, device) || (force && rateOf(desired, device) > 0),
        )
        .map(device => `${device} ${rateOf(desired, device)}`),
    show: value => JSON.stringify(value),
  };
  return codec;
}

export const bpsRatesCodec = deviceRatesCodec(Number.MAX_SAFE_INTEGER);

/**
 * v1 net_cls.classid: 0xAAAABBBB tags the pod's sockets for the tc cgroup filter (class AAAA:BBBB). The kernel reads
 * it back in decimal; it is written in decimal too, so what is written is what reads back.
 */
export const classidCodec: Codec<number> = {
  ...intCodec(0, unsignedIntMax, 'net_cls.classid'),
  parse: text => {
    const trimmed = text.trim();
    return /^0x[0-9a-fA-F]{1,8}$/.test(trimmed)
      ? Number.parseInt(trimmed.slice(2), 16)
      : parseInteger(trimmed, 'net_cls.classid');
  },
  show: value => `0x${value.toString(16).padStart(8, '0')}`,
};
/** The kernel stores iops limits as unsigned int and clamps larger values silently: refuse them instead. */
export const iopsRatesCodec = deviceRatesCodec(unsignedIntMax);

/** v2 io.max per device; null is "max" (no limit). */
export interface IoLimits {
  readonly rbps: number | null;
  readonly wbps: number | null;
  readonly riops: number | null;
  readonly wiops: number | null;
}
export type IoMax = Readonly<Record<string, IoLimits>>;

const ioKeys = ['rbps', 'wbps', 'riops', 'wiops'] as const;
const noLimits: IoLimits = { rbps: null, wbps: null, riops: null, wiops: null };

function ioLimitsOf(value: IoMax, device: string): IoLimits {
  return value[device] ?? noLimits;
}

function sameLimits(a: IoLimits, b: IoLimits): boolean {
  return ioKeys.every(key => a[key] === b[key]);
}

function parseIoLine(line: string): [string, IoLimits] | undefined {
  const [device, ...pairs] = line.trim().split(/\s+/);
  if (device === undefined || device === '') return undefined;
  const limits: Record<string, number | null> = { ...noLimits };
  for (const pair of pairs) {
    const [key, value] = pair.split('=');
    if (key !== undefined && (ioKeys as readonly string[]).includes(key))
      limits[key] = value === 'max' ? null : parseInteger(value ?? '', `io.max ${key}`);
  }
  return [device, limits as unknown as IoLimits];
}

/** blk-throttle's io.max parser takes only values > 1 and clamps iops to unsigned int. */
function ioLimitInvalid(key: (typeof ioKeys)[number], value: number | null): boolean {
  if (value === null) return false;
  const max = key.endsWith('iops') ? unsignedIntMax : Number.MAX_SAFE_INTEGER;
  return !Number.isInteger(value) || value < 2 || value > max;
}

export const ioMaxCodec: Codec<IoMax> = {
  schema: z.record(
    z.string().regex(/^[0-9]+:[0-9]+$/),
    z.object({
      rbps: z.int().nullable(),
      wbps: z.int().nullable(),
      riops: z.int().nullable(),
      wiops: z.int().nullable(),
    }),
  ),
  parse: text =>
    Object.fromEntries(
      text.split('\n').flatMap(line => {
        const entry = parseIoLine(line);
        return entry ? [entry] : [];
      }),
    ),
  invalid: value => {
    for (const [device, limits] of Object.entries(value)) {
      if (!/^[0-9]+:[0-9]+$/.test(device)) return `io.max device "${device.slice(0, 32)}" is not MAJ:MIN`;
      const bad = ioKeys.find(key => ioLimitInvalid(key, limits[key]));
      if (bad)
        return `io.max ${device} ${bad}=${limits[bad]} is outside 2..${bad.endsWith('iops') ? unsignedIntMax : 'max'}`;
    }
    return undefined;
  },
  equal: (a, b) =>
    [...new Set([...Object.keys(a), ...Object.keys(b)])].every(d =>
      sameLimits(ioLimitsOf(a, d), ioLimitsOf(b, d)),
    ),
  lines: (current, desired, force) =>
    [...new Set([...Object.keys(current), ...Object.keys(desired)])]
      .sort()
      .filter(
        d =>
          !sameLimits(ioLimitsOf(current, d), ioLimitsOf(desired, d)) ||
          (force && !sameLimits(ioLimitsOf(desired, d), noLimits)),
      )
      .map(d => `${d} ${ioKeys.map(key => `${key}=${ioLimitsOf(desired, d)[key] ?? 'max'}`).join(' ')}`),
  show: value => JSON.stringify(value),
};
