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

/** The kubepods directory names kubelet creates (cgroupfs, systemd): the subtrees the chart mounts by default. */
export const defaultKubepodsNames: readonly string[] = ['kubepods', 'kubepods.slice'];

/**
 * The hierarchy directory (under the cgroup root) an entry stands for: a whole hierarchy mounted at <root> (v2:
 * '') or <root>/<dir>, or only its kubepods subtree mounted at <root>/kubepods[.slice] (v2: '') or
 * <root>/<dir>/kubepods[.slice]: what the chart mounts so the agent reaches no other cgroup (docs/decisions/0147).
 * Told by the mount point alone: mountinfo's root field of a cgroup mount is relative to the reader's cgroup
 * namespace (a containerised agent sees "/../../.."), so it says nothing reliable here.
 */
function hierarchyDir(entry: MountEntry, root: string, kubepodsNames: readonly string[]): string | undefined {
  const mountPoint = resolve(entry.mountPoint);
  if (mountPoint === root) return '';
  const name = basename(mountPoint);
  const parent = dirname(mountPoint);
  if (!kubepodsNames.includes(name)) return parent === root ? name : undefined;
  if (parent === root) return '';
  return dirname(parent) === root ? basename(parent) : undefined;
}

/** `kubepodsNames`: the kubepods directory names a subtree mount may have (the agent's --kubepods, else kubelet's). */
export function cgroupMountsUnder(
  entries: readonly MountEntry[],
  cgroupRoot: string,
  kubepodsNames: readonly string[] = defaultKubepodsNames,
): CgroupMounts {
  const root = resolve(cgroupRoot);
  const memoryRecursiveProt = (entry: MountEntry | undefined): boolean =>
    entry?.superOptions.includes('memory_recursiveprot') ?? false;
  const unified = entries.filter(entry => entry.fsType === 'cgroup2');
  const v2 = unified.find(entry => hierarchyDir(entry, root, kubepodsNames) === '');
  if (v2) return { kind: 'v2', v1Mounts: {}, memoryRecursiveProt: memoryRecursiveProt(v2) };
  const v1Mounts: Partial<Record<Controller, string>> = {};
  for (const entry of entries) {
    const dir = entry.fsType === 'cgroup' ? hierarchyDir(entry, root, kubepodsNames) : undefined;
    if (dir === undefined || dir === '') continue;
    for (const controller of v1Controllers) {
      if (entry.superOptions.includes(controller)) v1Mounts[controller] ??= dir;
    }
  }
  if (Object.keys(v1Mounts).length === 0)
    throw new Error(`no cgroup hierarchy with cpu, cpuset, memory or blkio is mounted under ${root}`);
  const hybrid = unified.find(entry => {
    const dir = hierarchyDir(entry, root, kubepodsNames);
    return dir !== undefined && dir !== '';
  });
  return { kind: hybrid ? 'hybrid' : 'v1', v1Mounts, memoryRecursiveProt: memoryRecursiveProt(hybrid) };
}
