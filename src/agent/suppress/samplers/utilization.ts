// Node CPU utilization (percent of all CPUs) from deltas of the aggregate `cpu` line of <procRoot>/stat.
//
// busy  = user + nice + system + irq + softirq            (Koordinator's choice, pkg/koordlet/util/stat.go)
// total = busy + idle + iowait + steal
// guest and guest_nice are left out of both: the kernel already counts them inside user and nice.
// steal is wall time the hypervisor gave to someone else: it is in the total (so the percent is a share of
// wall time) but not busy, because no pod of this node consumed it and suppressing BE cannot win it back.
import { join } from 'node:path';
import { nodeFs, type AgentFs } from '../../fs.ts';
import { SampleError, type PressureSampler } from './sampler.ts';

/** Cumulative jiffies of the aggregate cpu line, split in the fields the percent needs. */
export interface CpuTimes {
  readonly busy: readonly number[];
  readonly idle: readonly number[];
}

const fieldNames = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
const busyFields = new Set(['user', 'nice', 'system', 'irq', 'softirq']);

export function parseProcStat(text: string, file: string): CpuTimes {
  const line = text.split('\n', 1)[0] ?? '';
  const tokens = line.trim().split(/\s+/);
  if (tokens[0] !== 'cpu')
    throw new SampleError(file, `first line is not the aggregate "cpu" line: "${line.slice(0, 80)}"`);
  const values = tokens.slice(1);
  if (values.length < fieldNames.length) {
    throw new SampleError(
      file,
      `the cpu line has ${values.length} fields, expected at least ${fieldNames.length}`,
    );
  }
  const busy: number[] = [];
  const idle: number[] = [];
  fieldNames.forEach((name, i) => {
    const value = parseCounter(values[i] ?? '', name, file);
    (busyFields.has(name) ? busy : idle).push(value);
  });
  return { busy, idle };
}

function parseCounter(token: string, name: string, file: string): number {
  const value = /^\d{1,16}$/.test(token) ? Number(token) : NaN;
  if (!Number.isSafeInteger(value))
    throw new SampleError(file, `cpu field ${name} is not a counter: "${token}"`);
  return value;
}

/**
 * Percent busy between two reads, or undefined when no time passed. A counter that steps back (idle and iowait do
 * under NO_HZ accounting) adds 0 rather than a negative delta, so the result always stays within 0..100.
 */
export function utilizationPercent(before: CpuTimes, after: CpuTimes): number | undefined {
  const busy = sumDeltas(before.busy, after.busy);
  const total = busy + sumDeltas(before.idle, after.idle);
  if (total === 0) return undefined;
  return (busy / total) * 100;
}

function sumDeltas(before: readonly number[], after: readonly number[]): number {
  return after.reduce((sum, value, i) => sum + Math.max(0, value - (before[i] ?? value)), 0);
}

export interface UtilizationSamplerOptions {
  readonly procRoot: string;
  readonly fs?: Pick<AgentFs, 'readFile'>;
}

/** The first sample() only records a baseline and yields undefined; each later one covers the time since the last. */
export function createUtilizationSampler({
  procRoot,
  fs = nodeFs,
}: UtilizationSamplerOptions): PressureSampler {
  const file = join(procRoot, 'stat');
  let previous: CpuTimes | undefined;
  return {
    source: 'utilization',
    sample: async () => {
      const text = await readOrExplain(fs, file);
      const current = parseProcStat(text, file);
      const before = previous;
      previous = current;
      return before === undefined ? undefined : utilizationPercent(before, current);
    },
  };
}

async function readOrExplain(fs: Pick<AgentFs, 'readFile'>, file: string): Promise<string> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    throw new SampleError(file, `cannot read: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
