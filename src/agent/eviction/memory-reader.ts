// Memory working set from cgroup files and /proc/meminfo, as kubelet (cAdvisor) computes it: usage - inactive file.
import type { AgentFs } from '../fs.ts';
import { workingSet } from './memory-threshold.ts';

function statValue(stat: string, key: string): number | undefined {
  const line = stat.split('\n').find(l => l.startsWith(`${key} `));
  if (line === undefined) return undefined;
  const value = Number(line.slice(key.length + 1).trim());
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function parseBytes(text: string, what: string): number {
  const value = Number(text.trim());
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${what}: not a byte count: ${text.slice(0, 64)}`);
  return value;
}

/**
 * Working set of one memory cgroup directory. v2: memory.current, or anon + file from memory.stat on the root
 * (which has no memory.current); inactive_file from memory.stat. v1: memory.usage_in_bytes and total_inactive_file.
 */
export async function cgroupWorkingSet(fs: AgentFs, dir: string, version: 'v1' | 'v2'): Promise<number> {
  const stat = await fs.readFile(`${dir}/memory.stat`);
  if (version === 'v1') {
    const usage = parseBytes(
      await fs.readFile(`${dir}/memory.usage_in_bytes`),
      `${dir}/memory.usage_in_bytes`,
    );
    return workingSet(usage, statValue(stat, 'total_inactive_file') ?? 0);
  }
  const inactive = statValue(stat, 'inactive_file') ?? 0;
  if (await fs.exists(`${dir}/memory.current`))
    return workingSet(
      parseBytes(await fs.readFile(`${dir}/memory.current`), `${dir}/memory.current`),
      inactive,
    );
  const anon = statValue(stat, 'anon');
  const file = statValue(stat, 'file');
  if (anon === undefined || file === undefined) throw new Error(`${dir}/memory.stat: no anon or file line`);
  return workingSet(anon + file, inactive);
}

/** MemTotal from /proc/meminfo, in bytes. */
export async function memTotalBytes(fs: AgentFs, procRoot: string): Promise<number> {
  const text = await fs.readFile(`${procRoot}/meminfo`);
  const match = /^MemTotal:\s+([0-9]+) kB$/m.exec(text);
  if (!match) throw new Error(`${procRoot}/meminfo: no MemTotal line`);
  return Number(match[1]) * 1024;
}
