// The instrumented file system the chaos agents write through refuses, and records, what the kernel would refuse:
// so "no write outside the kernel ranges" in the chaos suite is a check that can fail.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KernelFs } from './kernel-fs.ts';
import { kernelContentProblem, kernelValueProblem, type KernelLimits } from './kernel-rules.ts';

const limits: KernelLimits = { cpus: 4, numaNodes: 1, pageSize: 4096 };
const roots: string[] = [];

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function tree(): { fs: KernelFs; violations: string[]; pod: string; proc: string } {
  const root = mkdtempSync(join(tmpdir(), 'nodeqos-kernelfs-'));
  roots.push(root);
  const pod = join(root, 'cgroup', 'kubepods', 'pod1');
  const proc = join(root, 'proc');
  mkdirSync(pod, { recursive: true });
  mkdirSync(join(proc, '42'), { recursive: true });
  const files = {
    'cpu.max': '200000 100000',
    'cpu.max.burst': '50000',
    'cpuset.cpus': '',
    'memory.max': 'max',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(pod, name), content);
  writeFileSync(join(proc, '42', 'oom_score_adj'), '0');
  const violations: string[] = [];
  const fs = new KernelFs({ cgroupRoot: join(root, 'cgroup'), procRoot: proc, limits, violations });
  return { fs, violations, pod, proc };
}

describe('KernelFs', () => {
  it('passes writes the kernel takes', async () => {
    const { fs, violations, pod, proc } = tree();
    await fs.writeFile(join(pod, 'cpu.max'), '100000 100000');
    await fs.writeFile(join(pod, 'cpuset.cpus'), '0-3');
    await fs.writeFile(join(pod, 'memory.max'), String(4096 * 100));
    await fs.writeFile(join(proc, '42', 'oom_score_adj'), '-900');
    expect(violations).toEqual([]);
    expect(fs.writes).toBe(4);
    expect(readFileSync(join(pod, 'cpuset.cpus'), 'utf8')).toBe('0-3');
  });

  it('refuses with EINVAL, and records, what the kernel would refuse or silently change', async () => {
    const { fs, violations, pod, proc } = tree();
    const refused: [string, string][] = [
      [join(pod, 'cpu.max'), '999 100000'], // quota below 1000 us
      [join(pod, 'cpu.max'), '40000 100000'], // below the burst in force (50000)
      [join(pod, 'cpu.max.burst'), '300000'], // above the quota in force
      [join(pod, 'cpuset.cpus'), '2-5'], // CPUs the node does not have
      [join(pod, 'memory.max'), '5000'], // not page-aligned: the kernel would round it
      [join(pod, 'memory.high'), 'max'], // a file that is not there: cgroupfs cannot create it
      [join(proc, '42', 'oom_score_adj'), '-1001'],
      [join(proc, '42', 'status'), 'x'],
    ];
    for (const [path, data] of refused)
      await expect(fs.writeFile(path, data)).rejects.toMatchObject({ code: 'EINVAL' });
    expect(violations).toHaveLength(refused.length);
    expect(fs.writes).toBe(0);
    expect(readFileSync(join(pod, 'cpu.max'), 'utf8')).toBe('200000 100000');
  });

  it('fails everything after kill(), as a dead process would', async () => {
    const { fs, pod } = tree();
    fs.kill();
    await expect(fs.writeFile(join(pod, 'cpu.max'), '100000 100000')).rejects.toMatchObject({ code: 'EIO' });
    await expect(fs.readFile(join(pod, 'cpu.max'))).rejects.toMatchObject({ code: 'EIO' });
  });

  it('judges file contents for "half-written" checks', () => {
    expect(kernelContentProblem('memory.max', '', limits)).toMatch(/empty/);
    expect(kernelContentProblem('io.max', '', limits)).toBeUndefined();
    expect(kernelContentProblem('cpu.max', 'max 100000\n', limits)).toBeUndefined();
    expect(kernelValueProblem('cpu.weight', '10001', limits)).toMatch(/outside 1..10000/);
    expect(kernelValueProblem('io.max', '254:0 rbps=1', limits)).toMatch(/outside 2/);
  });
});
