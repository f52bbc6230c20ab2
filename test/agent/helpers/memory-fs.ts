// An in-memory AgentFs that behaves like cgroupfs where it matters to the executor: files cannot be created,
// throttle and io.max writes merge per device, and (optionally) the v1 kernel's parent/child rules for
// cpuset.cpus and cpu.cfs_quota_us are enforced with the errno the kernel returns. Every write is recorded.
import { dirname, join } from 'node:path';
import { parseCpuList } from '../../../src/api/cpulist.ts';
import { errnoError, type AgentFs } from '../../../src/agent/fs.ts';

export interface RecordedWrite {
  readonly path: string;
  readonly data: string;
}

export type Injection = (path: string, data: string) => string | undefined;

function subset(inner: string, outer: string): boolean {
  const outerSet = new Set(parseCpuList(outer));
  return parseCpuList(inner).every(cpu => outerSet.has(cpu));
}

export class MemoryFs implements AgentFs {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>();
  readonly writes: RecordedWrite[] = [];
  readonly injections: Injection[] = [];
  kernelRules = true;

  mkdir(path: string): void {
    for (let dir = path; dir !== '/' && !this.dirs.has(dir); dir = dirname(dir)) this.dirs.add(dir);
  }

  /** Creates a cgroup directory with the given files. */
  cgroup(path: string, files: Readonly<Record<string, string>>): void {
    this.mkdir(path);
    for (const [name, content] of Object.entries(files)) this.files.set(join(path, name), content);
  }

  /** Removes a directory and everything below it (a pod or container going away). */
  remove(path: string): void {
    for (const dir of [...this.dirs]) if (dir === path || dir.startsWith(`${path}/`)) this.dirs.delete(dir);
    for (const file of [...this.files.keys()]) if (file.startsWith(`${path}/`)) this.files.delete(file);
  }

  get(path: string): string | undefined {
    return this.files.get(path);
  }

  writesTo(suffix: string): RecordedWrite[] {
    return this.writes.filter(w => w.path.endsWith(suffix));
  }

  readFile(path: string): Promise<string> {
    const content = this.files.get(path);
    return content === undefined
      ? Promise.reject(errnoError('ENOENT', `no such file ${path}`))
      : Promise.resolve(content);
  }

  writeFile(path: string, data: string): Promise<void> {
    for (const inject of this.injections) {
      const errno = inject(path, data);
      if (errno !== undefined) return Promise.reject(errnoError(errno, `injected for ${path}`));
    }
    const current = this.files.get(path);
    if (current === undefined) return Promise.reject(errnoError('ENOENT', `no such file ${path}`));
    const refusal = this.kernelRules ? this.#refusal(path, data) : undefined;
    if (refusal !== undefined)
      return Promise.reject(errnoError(refusal, `kernel rule refused "${data}" for ${path}`));
    this.writes.push({ path, data });
    this.files.set(path, this.#merged(path, current, data));
    return Promise.resolve();
  }

  listDirs(path: string): Promise<string[]> {
    if (!this.dirs.has(path)) return Promise.reject(errnoError('ENOENT', `no such directory ${path}`));
    return Promise.resolve(
      [...this.dirs].filter(dir => dirname(dir) === path).map(dir => dir.slice(path.length + 1)),
    );
  }

  async listNames(path: string): Promise<string[]> {
    const dirs = await this.listDirs(path);
    return [
      ...dirs,
      ...[...this.files.keys()]
        .filter(file => dirname(file) === path)
        .map(file => file.slice(path.length + 1)),
    ];
  }

  exists(path: string): Promise<boolean> {
    return Promise.resolve(this.dirs.has(path) || this.files.has(path));
  }

  #merged(path: string, current: string, data: string): string {
    if (path.endsWith('_device')) {
      const [device, value] = data.split(' ');
      const lines = current.split('\n').filter(line => line !== '' && !line.startsWith(`${device} `));
      if (value !== '0') lines.push(data);
      return lines.sort().join('\n');
    }
    if (path.endsWith('/io.max')) {
      const device = data.split(' ')[0] ?? '';
      const lines = current.split('\n').filter(line => line !== '' && !line.startsWith(`${device} `));
      if (!/^\S+ rbps=max wbps=max riops=max wiops=max$/.test(data)) lines.push(data);
      return lines.sort().join('\n');
    }
    if (path.endsWith('/io.weight') || path.endsWith('/io.bfq.weight'))
      return `default ${data.replace('default ', '')}`;
    return data;
  }

  #children(dir: string): string[] {
    return [...this.dirs].filter(d => dirname(d) === dir);
  }

  #refusal(path: string, data: string): string | undefined {
    const dir = dirname(path);
    if (path.endsWith('/cpuset.cpus')) return this.#cpusetRefusal(dir, data);
    if (path.endsWith('/cpu.cfs_quota_us')) return this.#quotaRefusal(dir, Number(data));
    if (path.endsWith('/cpu.cfs_burst_us')) {
      const quota = Number(this.files.get(join(dir, 'cpu.cfs_quota_us')) ?? '-1');
      return quota !== -1 && Number(data) > quota ? 'EINVAL' : undefined;
    }
    return undefined;
  }

  /** kernel/cgroup/cpuset-v1.c: not within the parent -> EACCES; a child no longer within -> EBUSY. */
  #cpusetRefusal(dir: string, cpus: string): string | undefined {
    const parent = this.files.get(join(dirname(dir), 'cpuset.cpus'));
    if (parent !== undefined && !subset(cpus, parent)) return 'EACCES';
    const procs = this.files.get(join(dir, 'cgroup.procs')) ?? '';
    if (cpus === '' && procs.trim() !== '') return 'ENOSPC';
    for (const child of this.#children(dir)) {
      const childCpus = this.files.get(join(child, 'cpuset.cpus'));
      if (childCpus !== undefined && !subset(childCpus, cpus)) return 'EBUSY';
    }
    return undefined;
  }

  #ratio(dir: string, quota?: number): number {
    const q = quota ?? Number(this.files.get(join(dir, 'cpu.cfs_quota_us')) ?? '-1');
    const period = Number(this.files.get(join(dir, 'cpu.cfs_period_us')) ?? '100000');
    return q === -1 ? Number.POSITIVE_INFINITY : q / period;
  }

  /** kernel/sched/core.c tg_cfs_schedulable_down on v1: a child's ratio above its parent's -> EINVAL. */
  #quotaRefusal(dir: string, quota: number): string | undefined {
    const burst = Number(this.files.get(join(dir, 'cpu.cfs_burst_us')) ?? '0');
    if (quota !== -1 && burst > quota) return 'EINVAL';
    const parentDir = dirname(dir);
    if (
      this.files.has(join(parentDir, 'cpu.cfs_quota_us')) &&
      this.#ratio(dir, quota) > this.#ratio(parentDir)
    )
      return 'EINVAL';
    const mine = this.#ratio(dir, quota);
    for (const child of this.#children(dir)) {
      if (
        this.files.has(join(child, 'cpu.cfs_quota_us')) &&
        this.#ratio(child) !== Number.POSITIVE_INFINITY &&
        this.#ratio(child) > mine
      )
        return 'EINVAL';
    }
    return undefined;
  }
}
