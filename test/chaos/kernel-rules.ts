// What the kernel accepts, per file, for the cgroup v2 files and /proc/<pid>/oom_score_adj the agent writes on a
// simulated node — written out here from the kernel's documentation (docs/reference), not imported from the agent,
// so a wrong constant in the agent cannot hide itself. A value the kernel would reject or silently round or clamp
// is a problem; so is any file the agent has no business writing.

export interface KernelLimits {
  /** CPUs 0..cpus-1 exist. */
  readonly cpus: number;
  /** NUMA nodes 0..numaNodes-1 exist. */
  readonly numaNodes: number;
  readonly pageSize: number;
}

/** MAX_BW in kernel/sched/core.c: the largest CFS quota or burst, in microseconds. */
export const maxCfsUs = 2 ** 44 - 1;
const u32Max = 2 ** 32 - 1;

type Rule = (value: string, limits: KernelLimits) => string | undefined;

function intIn(value: string, min: number, max: number, what: string): string | undefined {
  if (!/^-?[0-9]+$/.test(value)) return `${what} "${value.slice(0, 40)}" is not an integer`;
  const n = Number(value);
  return n >= min && n <= max ? undefined : `${what} ${value} is outside ${min}..${max}`;
}

/** "max" or "<quota> <period>": quota 1000..MAX_BW, period 1000..1000000 (sched-bwc.rst). */
export function parseCpuMax(value: string): { quotaUs: number; periodUs: number } | string {
  const match = /^(max|[0-9]+) ([0-9]+)$/.exec(value.trim());
  if (!match) return `cpu.max "${value.slice(0, 40)}" is not "<quota|max> <period>"`;
  const quotaUs = match[1] === 'max' ? -1 : Number(match[1]);
  const periodUs = Number(match[2]);
  if (quotaUs !== -1 && (quotaUs < 1000 || quotaUs > maxCfsUs))
    return `cpu.max quota ${quotaUs} is outside 1000..${maxCfsUs}`;
  if (periodUs < 1000 || periodUs > 1_000_000) return `cpu.max period ${periodUs} is outside 1000..1000000`;
  return { quotaUs, periodUs };
}

/** A cpu (or mem) list the kernel parses, every id below `count`; "" is allowed on v2 (inherit the parent's). */
export function parseIdList(value: string, count: number, what: string): number[] | string {
  const text = value.trim();
  if (text === '') return [];
  if (!/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(text))
    return `${what} "${text.slice(0, 40)}" is not a list`;
  const ids: number[] = [];
  for (const part of text.split(',')) {
    const [low, high = low] = part.split('-').map(Number) as [number, number?];
    if (high < low) return `${what} range ${part} is reversed`;
    if (high >= count) return `${what} ${text} names id ${high}, the node has 0..${count - 1}`;
    for (let id = low; id <= high; id++) ids.push(id);
  }
  return ids;
}

const bytes =
  (what: string): Rule =>
  (value, limits) => {
    if (value === 'max') return undefined;
    const problem = intIn(value, 0, Number.MAX_SAFE_INTEGER, what);
    if (problem) return problem;
    // The kernel rounds down to a page without a word: a value that is not page-aligned would not read back.
    return Number(value) % limits.pageSize === 0
      ? undefined
      : `${what} ${value} is not a multiple of the page size ${limits.pageSize} (the kernel would round it)`;
  };

function ioWeight(value: string): string | undefined {
  const match = /^(default|[0-9]+:[0-9]+) ([0-9]+)$/.exec(value);
  if (!match) return `io.weight "${value.slice(0, 40)}" is not "default N" or "MAJ:MIN N"`;
  return intIn(match[2] ?? '', 1, 10000, 'io.weight');
}

/** blk-throttle takes "MAJ:MIN key=value..." with values "max" or above 1; iops are unsigned ints. */
function ioMax(value: string): string | undefined {
  const [device, ...pairs] = value.split(' ');
  if (!/^[0-9]+:[0-9]+$/.test(device ?? '') || pairs.length === 0)
    return `io.max "${value.slice(0, 60)}" is not "MAJ:MIN key=value..."`;
  for (const pair of pairs) {
    const match = /^(rbps|wbps|riops|wiops)=(max|[0-9]+)$/.exec(pair);
    if (!match) return `io.max "${pair}" is not rbps|wbps|riops|wiops=<n|max>`;
    if (match[2] === 'max') continue;
    const limit = match[1]?.endsWith('iops') ? u32Max : Number.MAX_SAFE_INTEGER;
    const problem = intIn(match[2] ?? '', 2, limit, `io.max ${match[1]}`);
    if (problem) return problem;
  }
  return undefined;
}

const rules: Readonly<Record<string, Rule>> = {
  'cpu.weight': value => intIn(value, 1, 10000, 'cpu.weight'),
  'cpu.max': value => {
    const parsed = parseCpuMax(value);
    return typeof parsed === 'string' ? parsed : undefined;
  },
  'cpu.max.burst': value => intIn(value, 0, maxCfsUs, 'cpu.max.burst'),
  'cpuset.cpus': (value, limits) => {
    const parsed = parseIdList(value, limits.cpus, 'cpuset.cpus');
    return typeof parsed === 'string' ? parsed : undefined;
  },
  'cpuset.mems': (value, limits) => {
    const parsed = parseIdList(value, limits.numaNodes, 'cpuset.mems');
    return typeof parsed === 'string' ? parsed : undefined;
  },
  'memory.min': bytes('memory.min'),
  'memory.low': bytes('memory.low'),
  'memory.high': bytes('memory.high'),
  'memory.max': bytes('memory.max'),
  'io.weight': ioWeight,
  'io.max': ioMax,
  oom_score_adj: value => intIn(value, -1000, 1000, 'oom_score_adj'),
};

/** Files the agent writes; anything else it writes is a problem in itself. */
export const writableFiles: readonly string[] = Object.keys(rules);

/** Why the kernel would refuse (or silently change) `value` written to `file`, or undefined when it takes it. */
export function kernelValueProblem(file: string, value: string, limits: KernelLimits): string | undefined {
  const rule = rules[file];
  if (!rule) return `${file} is not a file the agent writes`;
  return rule(value.endsWith('\n') ? value.slice(0, -1) : value, limits);
}

/**
 * The content of a file as the simulated kernel holds it (for "nothing half-written" checks): like a write, except
 * that io.max may be empty (no rules) and a whole file may hold one value per line.
 */
export function kernelContentProblem(
  file: string,
  content: string,
  limits: KernelLimits,
): string | undefined {
  const lines = content.split('\n').filter(line => line !== '');
  if (file === 'io.max' && lines.length === 0) return undefined;
  if (lines.length === 0 && !['cpuset.cpus', 'cpuset.mems'].includes(file))
    return `${file} is empty (half-written?)`;
  for (const line of lines.length === 0 ? [''] : lines) {
    const problem = kernelValueProblem(file, line, limits);
    if (problem) return problem;
  }
  return undefined;
}
