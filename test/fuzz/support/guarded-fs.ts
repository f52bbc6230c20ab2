// An AgentFs in front of the in-memory cgroup tree that checks every access the agent makes, independently of the
// agent's own codecs: each path stays under its root and is built of plain segments, writes go only to cgroup
// knob files and /proc/<pid>/oom_score_adj, and every value written is one the kernel takes as it is (no
// EINVAL, no silent clamp), judged against the tree's state at the moment of the write (burst <= quota).
import { dirname, join, posix } from 'node:path';
import { parseCpuList } from '../../../src/api/cpulist.ts';
import type { AgentFs } from '../../../src/agent/fs.ts';
import type { MemoryFs } from '../../agent/helpers/memory-fs.ts';

const maxQuotaUs = 2 ** 44 - 1;
const uint32Max = 4294967295;
const pageSize = 4096;

interface WriteContext {
  /** A file next to the one written, as the tree holds it at the moment of the write. */
  readonly sibling: (name: string) => string | undefined;
  readonly version: 'v1' | 'v2';
}

type Rule = (data: string, context: WriteContext) => string | undefined;

function intIn(text: string, min: number, max: number): boolean {
  if (!/^-?[0-9]+$/.test(text)) return false;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max;
}

function check(ok: boolean, what: string): string | undefined {
  return ok ? undefined : what;
}

/** Quota text ("-1"/"max" = unlimited) as a number, Infinity for unlimited. */
function quotaOf(text: string | undefined): number {
  const first = (text ?? '-1').trim().split(/\s+/)[0] ?? '-1';
  return first === 'max' || first === '-1' ? Number.POSITIVE_INFINITY : Number(first);
}

function cpuListOk(text: string, allowEmpty: boolean): boolean {
  if (text === '') return allowEmpty;
  try {
    return parseCpuList(text).length > 0;
  } catch {
    return false;
  }
}

const bytes: Rule = data =>
  check(
    data === 'max' ||
      data === '-1' ||
      (intIn(data, 0, Number.MAX_SAFE_INTEGER) && Number(data) % pageSize === 0),
    'memory value outside 0..2^53-1 or not page-aligned',
  );

function deviceRate(max: number): Rule {
  return data => {
    const match = /^([0-9]+):([0-9]+) ([0-9]+)$/.exec(data);
    return check(match !== null && intIn(match[3] ?? '', 0, max), `throttle line outside 0..${max}`);
  };
}

function ioMaxValueOk(key: string, value: string): boolean {
  if (value === 'max') return true;
  return intIn(value, 2, key.endsWith('iops') ? uint32Max : Number.MAX_SAFE_INTEGER);
}

const ioMax: Rule = data => {
  const [device, ...pairs] = data.split(' ');
  const ok =
    /^[0-9]+:[0-9]+$/.test(device ?? '') &&
    pairs.length > 0 &&
    pairs.every(pair => {
      const [key, value] = pair.split('=');
      return ['rbps', 'wbps', 'riops', 'wiops'].includes(key ?? '') && ioMaxValueOk(key ?? '', value ?? '');
    });
  return check(ok, 'io.max line the kernel rejects (values must be "max" or > 1, iops <= 2^32-1)');
};

function weight(min: number, max: number, prefix: boolean): Rule {
  return data => {
    const value = prefix ? data.replace(/^default /, '') : data;
    return check(intIn(value, min, max), `weight outside ${min}..${max}`);
  };
}

/** Kernel ranges per file, checked before the write lands (sibling reads show the tree as it is then). */
export const kernelRules: Readonly<Record<string, Rule>> = {
  'cpu.shares': data => check(intIn(data, 2, 262144), 'cpu.shares outside 2..262144'),
  'cpu.weight': data => check(intIn(data, 1, 10000), 'cpu.weight outside 1..10000'),
  'cpu.cfs_period_us': data => check(intIn(data, 1000, 1_000_000), 'period outside 1000..1000000'),
  'cpu.cfs_quota_us': (data, { sibling }) => {
    if (data !== '-1' && !intIn(data, 1000, maxQuotaUs)) return 'quota neither -1 nor 1000..2^44-1';
    return check(
      Number(sibling('cpu.cfs_burst_us') ?? '0') <= quotaOf(data),
      'quota below the current burst',
    );
  },
  'cpu.cfs_burst_us': (data, { sibling }) => {
    if (!intIn(data, 0, maxQuotaUs)) return 'burst outside 0..2^44-1';
    return check(Number(data) <= quotaOf(sibling('cpu.cfs_quota_us')), 'burst above the current quota');
  },
  'cpu.max': (data, { sibling }) => {
    const [quota, period] = data.split(' ');
    if (quota !== 'max' && !intIn(quota ?? '', 1000, maxQuotaUs)) return 'cpu.max quota out of range';
    if (!intIn(period ?? '', 1000, 1_000_000)) return 'cpu.max period out of range';
    return check(
      Number(sibling('cpu.max.burst') ?? '0') <= quotaOf(quota),
      'cpu.max below the current burst',
    );
  },
  'cpu.max.burst': (data, { sibling }) => {
    if (!intIn(data, 0, maxQuotaUs)) return 'cpu.max.burst outside 0..2^44-1';
    return check(Number(data) <= quotaOf(sibling('cpu.max')), 'cpu.max.burst above the current quota');
  },
  // v2: an empty cpuset.cpus means "the parent's CPUs" (restores write it back); v1: no task could run.
  'cpuset.cpus': (data, { version }) =>
    check(cpuListOk(data, version === 'v2'), 'cpuset.cpus not a valid cpu list'),
  'cpuset.mems': data => check(cpuListOk(data, false), 'cpuset.mems not a valid list'),
  'memory.limit_in_bytes': bytes,
  'memory.soft_limit_in_bytes': bytes,
  'memory.min': bytes,
  'memory.low': bytes,
  'memory.high': bytes,
  'memory.max': bytes,
  'blkio.weight': weight(10, 1000, false),
  'blkio.bfq.weight': weight(1, 1000, false),
  'io.bfq.weight': weight(1, 1000, true),
  'io.weight': weight(1, 10000, true),
  'blkio.throttle.read_bps_device': deviceRate(Number.MAX_SAFE_INTEGER),
  'blkio.throttle.write_bps_device': deviceRate(Number.MAX_SAFE_INTEGER),
  'blkio.throttle.read_iops_device': deviceRate(uint32Max),
  'blkio.throttle.write_iops_device': deviceRate(uint32Max),
  'io.max': ioMax,
  oom_score_adj: data => check(intIn(data, -1000, 1000), 'oom_score_adj outside -1000..1000'),
};

export interface GuardOptions {
  readonly version: 'v1' | 'v2';
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly sysRoot: string;
}

export class GuardedFs implements AgentFs {
  readonly inner: MemoryFs;
  readonly violations: string[] = [];
  writes = 0;
  readonly #roots: readonly string[];
  readonly #options: GuardOptions;

  constructor(inner: MemoryFs, options: GuardOptions) {
    this.inner = inner;
    this.#options = options;
    this.#roots = [options.cgroupRoot, options.procRoot, options.sysRoot];
  }

  #checkPath(path: string, op: string): void {
    const normal = posix.normalize(path);
    if (path.includes('\0') || normal !== path || !posix.isAbsolute(path))
      this.violations.push(`${op} ${JSON.stringify(path.slice(0, 200))}: not a normalised absolute path`);
    else if (!this.#roots.some(root => path === root || path.startsWith(`${root}/`)))
      this.violations.push(`${op} ${JSON.stringify(path.slice(0, 200))}: outside ${this.#roots.join(', ')}`);
  }

  #checkWrite(path: string, data: string): void {
    this.#checkPath(path, 'write');
    const name = path.slice(path.lastIndexOf('/') + 1);
    const { cgroupRoot, procRoot } = this.#options;
    const procTarget = new RegExp(`^${procRoot}/[0-9]+/oom_score_adj$`).test(path);
    if (!procTarget && !path.startsWith(`${cgroupRoot}/`))
      this.violations.push(`write ${path}: neither a cgroup file nor /proc/<pid>/oom_score_adj`);
    const rule = Object.hasOwn(kernelRules, name) ? kernelRules[name] : undefined;
    if (rule === undefined) {
      this.violations.push(`write ${path}: ${name} is not a knob file`);
      return;
    }
    if (data.includes('\n') || data.includes('\0'))
      this.violations.push(`write ${path}: ${JSON.stringify(data.slice(0, 80))} is more than one line`);
    const refusal = rule(data, {
      sibling: file => this.inner.get(join(dirname(path), file)),
      version: this.#options.version,
    });
    if (refusal !== undefined)
      this.violations.push(`write ${path} ${JSON.stringify(data.slice(0, 80))}: ${refusal}`);
  }

  readFile(path: string): Promise<string> {
    this.#checkPath(path, 'read');
    return this.inner.readFile(path);
  }

  writeFile(path: string, data: string): Promise<void> {
    this.writes++;
    this.#checkWrite(path, data);
    return this.inner.writeFile(path, data);
  }

  listDirs(path: string): Promise<string[]> {
    this.#checkPath(path, 'list');
    return this.inner.listDirs(path);
  }

  listNames(path: string): Promise<string[]> {
    this.#checkPath(path, 'list');
    return this.inner.listNames(path);
  }

  exists(path: string): Promise<boolean> {
    this.#checkPath(path, 'exists');
    return this.inner.exists(path);
  }
}
