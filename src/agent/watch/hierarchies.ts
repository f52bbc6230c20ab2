// The kubepods directories to watch for a node's cgroup layout: one per mounted v1 controller the agent writes
// (cpu, cpuset, memory, blkio), or the single unified tree on v2.
import { v1Controllers, type CgroupLayout } from '../cgroup/layout.ts';
import type { WatchedHierarchy } from './cgroup-watcher.ts';

export function watchedHierarchies(layout: CgroupLayout): WatchedHierarchy[] {
  if (layout.version === 'v2') return [{ name: 'unified', root: layout.dir('cpu', layout.kubepods) }];
  return v1Controllers
    .filter(controller => layout.hasController(controller))
    .map(controller => ({ name: controller, root: layout.dir(controller, layout.kubepods) }));
}
