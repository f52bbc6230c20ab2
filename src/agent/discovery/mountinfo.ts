// /proc/self/mountinfo: which cgroup hierarchies are mounted under the cgroup root (proc(5), "mountinfo").
import { basename, dirname, resolve } from 'node:path';
import { v1Controllers, type Controller } from '../cgroup/layout.ts';

export interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

/** Undo the octal escapes the kernel writes for space, tab, newline and backslash (\040 ...). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const separator = fields.indexOf('-');
    const mountPoint = fields[4];
    const fsType = fields[separator + 1];
    if (separator < 6 || mountPoint === undefined || fsType === undefined) continue;
    entries.push({
      mountPoint: unescapeMountField(mountPoint),
      fsType,
      superOptions: (fields[separator + 3] ?? '').split(','),
    });
  }
  return entries;
}

export type HierarchyKind = 'v1' | 'v2' | 'hybrid';

export interface CgroupMounts {
  readonly kind: HierarchyKind;
  /** v1 / hybrid: the directory name under the root each controller we use is mounted at. */
  readonly v1Mounts: Partial<Record<Controller, string>>;
  /** Whether the cgroup2 mount has memory_recursiveprot (memory.min/low of a pod then also protects its containers). */
  readonly memoryRecursiveProt: boolean;
}

export function cgroupMountsUnder(entries: readonly MountEntry[], cgroupRoot: string): CgroupMounts {
  const root = resolve(cgroupRoot);
  const unified = entries.find(entry => entry.fsType === 'cgroup2' && resolve(entry.mountPoint) === root);
  const memoryRecursiveProt = (entry: MountEntry | undefined): boolean =>
    entry?.superOptions.includes('memory_recursiveprot') ?? false;
  if (unified) return { kind: 'v2', v1Mounts: {}, memoryRecursiveProt: memoryRecursiveProt(unified) };
  const v1Mounts: Partial<Record<Controller, string>> = {};
  for (const entry of entries) {
    if (entry.fsType !== 'cgroup' || dirname(resolve(entry.mountPoint)) !== root) continue;
    for (const controller of v1Controllers) {
      if (entry.superOptions.includes(controller)) v1Mounts[controller] ??= basename(entry.mountPoint);
    }
  }
  if (Object.keys(v1Mounts).length === 0)
    throw new Error(`no cgroup hierarchy with cpu, cpuset, memory or blkio is mounted under ${root}`);
  const hybrid = entries.find(
    entry => entry.fsType === 'cgroup2' && dirname(resolve(entry.mountPoint)) === root,
  );
  return { kind: hybrid ? 'hybrid' : 'v1', v1Mounts, memoryRecursiveProt: memoryRecursiveProt(hybrid) };
}
