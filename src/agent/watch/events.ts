// What the cgroup watcher reports: pod and container directories appearing and going, the kubepods root itself,
// and the kernel refusing a watch (and the watch coming back).
import type { FSWatcher } from 'node:fs';
import type { KubeQoS } from '../../api/group.ts';

export interface WatchedHierarchy {
  /** A name for events and logs: the v1 controller (`cpu`, `memory`...) or `unified`. */
  readonly name: string;
  /** The kubepods directory in this hierarchy, e.g. /sys/fs/cgroup/cpu/kubepods. */
  readonly root: string;
}

/** How the watcher learnt about a change. */
export type EventSource = 'inotify' | 'rescan' | 'initial';

interface EventBase {
  readonly hierarchy: string;
  readonly dir: string;
  readonly source: EventSource;
  /** performance.now() when the change was noticed (the inotify callback, or the rescan that found it). */
  readonly noticedAt: number;
}

export interface PodDirEvent extends EventBase {
  readonly type: 'pod-added' | 'pod-removed';
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
}

export interface ContainerDirEvent extends EventBase {
  readonly type: 'container-added' | 'container-removed';
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
  readonly container: string;
  readonly podDir: string;
}

export interface RootEvent extends EventBase {
  readonly type: 'root-added' | 'root-removed';
}

/** The kernel refused a watch: this hierarchy is rescanned every rescanMs until all watches are back. */
export interface WatchLimitEvent extends EventBase {
  readonly type: 'watch-limit';
  readonly error: string;
  readonly rescanMs: number;
}

export interface WatchRestoredEvent extends EventBase {
  readonly type: 'watch-restored';
}

export type CgroupWatchEvent =
  PodDirEvent | ContainerDirEvent | RootEvent | WatchLimitEvent | WatchRestoredEvent;

export type WatchFunction = (
  dir: string,
  listener: (event: string, name: string | null) => void,
) => FSWatcher;
