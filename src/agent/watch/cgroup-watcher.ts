// Learns about pod and container cgroups from the kernel as they appear and go: one inotify watch (fs.watch,
// non-recursive) per directory level that can hold them: the kubepods root's parent (for the root itself),
// the root, the burstable/besteffort tiers and each pod directory, in every hierarchy given (each v1 controller
// mount, or the unified v2 tree). Container directories are not watched: nothing the agent needs appears
// inside them.
//
// Why not fs.watch({ recursive: true }): on Linux Node emulates it by walking the tree and watching every
// directory, then reports every interface file of every new cgroup (a dozen or more each); on this kernel it also
// missed the removal of a nested directory (checked while writing this; docs/decisions/0111-cgroup-watch.md).
//
// An inotify event is only a hint: the watcher then looks at the directory (lstat, and readdir for a new one)
// and reports the difference from what it knew, so coalesced, duplicated or lost events cannot make it report
// something that is not there. A directory re-created under the same name has a new inode and is reported as
// removed, then added. Hints are collected and handled on the next turn of the event loop (setImmediate) or
// after `debounceMs`, so a burst (kubelet creating a pod and its containers) is one pass, with no fixed delay.
//
// When the kernel refuses a watch (ENOSPC: fs.inotify.max_user_watches reached; EMFILE: too many inotify
// instances) the watcher reports it once ('watch-limit'), keeps the watches it has, and rescans the hierarchy
// every `rescanMs` until every directory is watched again ('watch-restored'). Directories found by a rescan are
import { watch as fsWatch } from 'node:fs';
import type { CgroupDriver } from '../cgroup/layout.ts';
import type { KnownPods } from './dir-node.ts';
import type { CgroupWatchEvent, WatchedHierarchy, WatchFunction } from './events.ts';
import { HierarchyWatch, type WatchOwner } from './hierarchy-watch.ts';

export type {
  CgroupWatchEvent,
  ContainerDirEvent,
  EventSource,
  PodDirEvent,
  RootEvent,
  WatchedHierarchy,
  WatchFunction,
  WatchLimitEvent,
  WatchRestoredEvent,
} from './events.ts';

export interface CgroupWatcherOptions {
  readonly hierarchies: readonly WatchedHierarchy[];
  readonly driver: CgroupDriver;
  /** Receives every event, in order; must not throw (an exception is caught and passed to onError). */
  readonly onEvent: (event: CgroupWatchEvent) => void;
  /** Errors that are not the watcher's to decide (a throwing onEvent, an unreadable directory). */
  readonly onError?: (error: unknown) => void;
  /** Also report what exists at start() (source 'initial'); default false: start() only records it. */
  readonly reportExisting?: boolean;
  /** 0 (default): handle hints on the next event-loop turn; otherwise wait this long to coalesce more. */
  readonly debounceMs?: number;
  /** Rescan period while some directory could not be watched (default 2000 ms). */
  readonly rescanMs?: number;
  /** fs.watch; replaceable only to observe calls. */
  readonly watch?: WatchFunction;
}

export class CgroupWatcher implements WatchOwner {
  readonly driver: CgroupDriver;
  readonly reportExisting: boolean;
  readonly debounceMs: number;
  readonly rescanMs: number;
  readonly watchFn: WatchFunction;
  private readonly options: CgroupWatcherOptions;
  private readonly hierarchies: HierarchyWatch[] = [];
  private started = false;

  constructor(options: CgroupWatcherOptions) {
    this.options = options;
    this.driver = options.driver;
    this.reportExisting = options.reportExisting ?? false;
    this.debounceMs = options.debounceMs ?? 0;
    this.rescanMs = options.rescanMs ?? 2000;
    this.watchFn = options.watch ?? ((dir, listener) => fsWatch(dir, { persistent: false }, listener));
  }

  /** Watches every hierarchy and records (or reports) what exists now; throws when a root's parent is missing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const hierarchy of this.options.hierarchies) {
      const watch = new HierarchyWatch(this, hierarchy);
      this.hierarchies.push(watch);
      watch.start(this.reportExisting ? 'initial' : undefined);
    }
  }

  close(): void {
    for (const watch of this.hierarchies) watch.close();
    this.hierarchies.length = 0;
  }

  /** What each hierarchy holds now: hierarchy name -> pod uid -> its QoS, directory and container names. */
  snapshot(): Map<string, KnownPods> {
    return new Map(this.hierarchies.map(h => [h.name, h.pods()]));
  }

  /** inotify watches held now (all hierarchies). */
  get watchCount(): number {
    return this.hierarchies.reduce((sum, h) => sum + h.watchCount, 0);
  }

  /** Hierarchies currently rescanned because the kernel refused a watch. */
  get degradedHierarchies(): string[] {
    return this.hierarchies.filter(h => h.degraded).map(h => h.name);
  }

  deliver(event: CgroupWatchEvent): void {
    try {
      this.options.onEvent(event);
    } catch (error) {
      this.reportError(error);
    }
  }

  reportError(error: unknown): void {
    this.options.onError?.(error);
  }
}
