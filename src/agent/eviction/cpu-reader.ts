// CPU time the BE tier (the kubepods besteffort directory) has used, in microseconds.
import type { CgroupLayout } from '../cgroup/layout.ts';
import type { AgentFs } from '../fs.ts';

/** v2: `usage_usec` of cpu.stat; v1: cpuacct.usage (nanoseconds) in the cpu hierarchy (cpu,cpuacct co-mounted). */
export async function beTierUsageUs(fs: AgentFs, layout: CgroupLayout): Promise<number> {
  const dir = layout.qosDir('cpu', 'BestEffort');
  if (layout.version === 'v2') {
    const stat = await fs.readFile(`${dir}/cpu.stat`);
    const match = /^usage_usec ([0-9]+)$/m.exec(stat);
    if (!match) throw new Error(`${dir}/cpu.stat: no usage_usec line`);
    return Number(match[1]);
  }
  const text = (await fs.readFile(`${dir}/cpuacct.usage`)).trim();
  if (!/^[0-9]+$/.test(text)) throw new Error(`${dir}/cpuacct.usage: not a count: ${text.slice(0, 64)}`);
  return Math.floor(Number(text) / 1000);
}
