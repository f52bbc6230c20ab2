// Linux cpu-list strings ("0-3,8,10-11"): the format of cpuset.cpus and of the plan's pools.

export const cpuListRegex = /^$|^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/;

/** Largest CPU id accepted anywhere; Linux NR_CPUS tops out at 8192. */
export const maxCpuId = 8191;

export function parseCpuList(text: string): number[] {
  const trimmed = text.trim();
  if (!cpuListRegex.test(trimmed))
    throw new Error(`"${trimmed.slice(0, 64)}" is not a cpu list such as 0-3,8`);
  if (trimmed === '') return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(',')) {
    const [startText, endText] = part.split('-');
    const start = Number(startText);
    const end = endText === undefined ? start : Number(endText);
    if (end < start || end > maxCpuId) throw new Error(`cpu range "${part}" is invalid`);
    for (let cpu = start; cpu <= end; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Canonical form: sorted, deduplicated, consecutive runs collapsed into ranges. */
export function formatCpuList(cpus: Iterable<number>): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  let index = 0;
  while (index < sorted.length) {
    const start = sorted[index] ?? 0;
    let end = start;
    while (sorted[index + 1] === end + 1) {
      end++;
      index++;
    }
    parts.push(start === end ? String(start) : `${start}-${end}`);
    index++;
  }
  return parts.join(',');
}

export function canonicalCpuList(text: string): string {
  return formatCpuList(parseCpuList(text));
}
