// The agent's file system on a simulated node, checked like the kernel would check it: every write is validated
// (range, format, page alignment, burst <= quota in both directions, no new files, nothing outside the roots)
// before it reaches the file, and a write the kernel would refuse is recorded as a violation and refused with
// EINVAL. kill() makes every later call fail, as if the agent's process had died between two system calls.
import { basename, dirname, join, relative } from 'node:path';
import { errnoError, nodeFs, type AgentFs } from '../../src/agent/fs.ts';
import { kernelValueProblem, parseCpuMax, type KernelLimits } from './kernel-rules.ts';

export interface KernelFsOptions {
  readonly cgroupRoot: string;
  readonly procRoot: string;
  readonly limits: KernelLimits;
  /** Where refused writes are reported (shared by every agent instance of a node). */
  readonly violations: string[];
  readonly base?: AgentFs;
}

function isUnder(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith('/');
}

export class KernelFs implements AgentFs {
  private readonly options: KernelFsOptions;
  private readonly base: AgentFs;
  private killed = false;
  writes = 0;

  constructor(options: KernelFsOptions) {
    this.options = options;
    this.base = options.base ?? nodeFs;
  }

  /** The process is gone: nothing it started afterwards reaches the kernel. */
  kill(): void {
    this.killed = true;
  }

  private alive(path: string): void {
    if (this.killed) throw errnoError('EIO', `agent process killed (${path})`);
  }

  async readFile(path: string): Promise<string> {
    this.alive(path);
    return this.base.readFile(path);
  }

  async listDirs(path: string): Promise<string[]> {
    this.alive(path);
    return this.base.listDirs(path);
  }

  async listNames(path: string): Promise<string[]> {
    this.alive(path);
    return this.base.listNames(path);
  }

  async exists(path: string): Promise<boolean> {
    this.alive(path);
    return this.base.exists(path);
  }

  async writeFile(path: string, data: string): Promise<void> {
    this.alive(path);
    const problem = await this.problem(path, data);
    if (problem !== undefined) {
      this.options.violations.push(`write ${JSON.stringify(data)} to ${path}: ${problem}`);
      throw errnoError('EINVAL', problem);
    }
    this.alive(path);
    await this.base.writeFile(path, data);
    this.writes++;
  }

  private async problem(path: string, data: string): Promise<string | undefined> {
    const { cgroupRoot, procRoot, limits } = this.options;
    const file = basename(path);
    if (isUnder(path, procRoot)) {
      if (file !== 'oom_score_adj') return `the agent writes no /proc file but oom_score_adj`;
    } else if (!isUnder(path, join(cgroupRoot, 'kubepods'))) return 'outside the kubepods cgroup tree';
    if (!(await this.base.exists(path))) {
      // cgroupfs cannot create files: a missing directory is a vanished pod (ENOENT); a missing file in a live
      // directory means the agent wrote a knob it should have found unsupported.
      if (!(await this.base.exists(dirname(path)))) throw errnoError('ENOENT', `${path} vanished`);
      return 'the file does not exist (cgroupfs cannot create files)';
    }
    return kernelValueProblem(file, data, limits) ?? (await this.burstProblem(path, file, data));
  }

  /** The kernel keeps burst <= quota at every moment (tg_set_cfs_bandwidth): a write that breaks it is EINVAL. */
  private async burstProblem(path: string, file: string, data: string): Promise<string | undefined> {
    if (file !== 'cpu.max' && file !== 'cpu.max.burst') return undefined;
    const sibling = join(dirname(path), file === 'cpu.max' ? 'cpu.max.burst' : 'cpu.max');
    if (!(await this.base.exists(sibling))) return undefined;
    const other = (await this.base.readFile(sibling)).trim();
    const cpuMax = parseCpuMax(file === 'cpu.max' ? data : other);
    const burst = Number(file === 'cpu.max' ? other : data.trim());
    if (typeof cpuMax === 'string' || cpuMax.quotaUs === -1 || burst <= cpuMax.quotaUs) return undefined;
    return file === 'cpu.max'
      ? `quota ${cpuMax.quotaUs} below the burst ${burst} in force`
      : `burst ${burst} above the quota ${cpuMax.quotaUs} in force`;
  }
}
