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
// reported like the others, with source 'rescan'.
import { lstatSync, readdirSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KubeQoS } from '../../api/group.ts';
import type { CgroupDriver } from '../cgroup/layout.ts';
import { isContainerName, kubeQoSOfTier, podUidOf, tierOf, type Tier } from '../cgroup/kubepods-names.ts';

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

type Kind = 'parent' | 'root' | 'tier' | 'pod' | 'container';

interface DirNode {
  readonly kind: Kind;
  readonly path: string;
  readonly ino: number;
  readonly tier: Tier | undefined;
  readonly uid: string | undefined;
  readonly children: Map<string, DirNode>;
  watcher: FSWatcher | undefined;
}

/** The kinds of directory a watched directory of this kind holds. */
function childKind(
  parent: DirNode,
  driver: CgroupDriver,
  name: string,
): { kind: Kind; tier?: Tier; uid?: string } | undefined {
  switch (parent.kind) {
    case 'root': {
      const tier = tierOf(driver, name);
      if (tier !== undefined) return { kind: 'tier', tier };
      const uid = podUidOf(driver, undefined, name);
      return uid === undefined ? undefined : { kind: 'pod', uid };
    }
    case 'tier': {
      const uid = podUidOf(driver, parent.tier, name);
      return uid === undefined ? undefined : { kind: 'pod', tier: parent.tier, uid };
    }
    case 'pod':
      return isContainerName(name) ? { kind: 'container', tier: parent.tier, uid: parent.uid } : undefined;
    default:
      return undefined;
  }
}

const isWatchLimit = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EMFILE';
};

class HierarchyWatch {
  readonly name: string;
  readonly root: string;
  private readonly owner: CgroupWatcher;
  private readonly parent: DirNode;
  private rootNode: DirNode | undefined;
  private readonly pending = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private limited = false;
  private closed = false;

  constructor(owner: CgroupWatcher, hierarchy: WatchedHierarchy) {
    this.owner = owner;
    this.name = hierarchy.name;
    this.root = hierarchy.root;
    const parentPath = dirname(hierarchy.root);
    const stat = lstatSync(parentPath, { throwIfNoEntry: false });
    if (!stat?.isDirectory())
      throw new Error(
        `cgroup watch ${hierarchy.name}: ${parentPath} (the parent of ${hierarchy.root}) is not a directory`,
      );
    this.parent = {
      kind: 'parent',
      path: parentPath,
      ino: stat.ino,
      tier: undefined,
      uid: undefined,
      children: new Map(),
      watcher: undefined,
    };
  }

  start(source: EventSource | undefined): void {
    this.attach(this.parent, performance.now());
    this.reconcileRoot(source, performance.now());
  }

  /** Known pods (uid -> container names) in this hierarchy. */
  pods(): Map<string, { kubeQoS: KubeQoS; dir: string; containers: string[] }> {
    const out = new Map<string, { kubeQoS: KubeQoS; dir: string; containers: string[] }>();
    const visit = (node: DirNode): void => {
      for (const child of node.children.values()) {
        if (child.kind === 'pod' && child.uid !== undefined)
          out.set(child.uid, {
            kubeQoS: kubeQoSOfTier(child.tier),
            dir: child.path,
            containers: [...child.children.keys()].sort(),
          });
        else visit(child);
      }
    };
    if (this.rootNode) visit(this.rootNode);
    return out;
  }

  get watchCount(): number {
    let count = 0;
    const visit = (node: DirNode): void => {
      if (node.watcher) count++;
      for (const child of node.children.values()) visit(child);
    };
    visit(this.parent);
    if (this.rootNode) visit(this.rootNode);
    return count;
  }

  get degraded(): boolean {
    return this.limited;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.rescanTimer);
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer as NodeJS.Timeout);
      clearImmediate(this.flushTimer as NodeJS.Immediate);
    }
    const visit = (node: DirNode): void => {
      node.watcher?.close();
      node.watcher = undefined;
      for (const child of node.children.values()) visit(child);
    };
    visit(this.parent);
    if (this.rootNode) visit(this.rootNode);
  }

  // --- inotify hints ---

  private attach(node: DirNode, noticedAt: number): void {
    if (node.watcher || node.kind === 'container' || this.closed) return;
    try {
      node.watcher = this.owner.watchFn(node.path, (_event, name) => {
        this.hint(node, name);
      });
      node.watcher.on('error', () => {
        // The directory went away (or the watch broke): drop the watch and look at the directory again.
        node.watcher?.close();
        node.watcher = undefined;
        this.hint(node, null);
      });
    } catch (error) {
      if (isWatchLimit(error)) this.enterRescanMode(error, noticedAt);
      else if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.owner.reportError(error);
      // ENOENT: removed before the watch; its parent's event reconciles it.
    }
  }

  private hint(node: DirNode, name: string | null): void {
    if (this.closed) return;
    const noticedAt = performance.now();
    // A hint on a directory itself (name null, or its own removal) re-checks the directory; otherwise its child.
    const path = name === null || node.kind === 'parent' ? node.path : join(node.path, name);
    if (node.kind === 'parent' && name !== null && name !== basename(this.root)) return;
    const key = node.kind === 'parent' ? this.root : path;
    if (!this.pending.has(key)) this.pending.set(key, noticedAt);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined) return;
    const debounceMs = this.owner.debounceMs;
    const run = (): void => {
      this.flushTimer = undefined;
      this.flush();
    };
    this.flushTimer = debounceMs > 0 ? setTimeout(run, debounceMs) : setImmediate(run);
  }

  private flush(): void {
    const batch = [...this.pending];
    this.pending.clear();
    for (const [path, noticedAt] of batch) {
      if (this.closed) return;
      if (path === this.root) this.reconcileRoot('inotify', noticedAt);
      else this.reconcilePath(path, 'inotify', noticedAt);
    }
  }

  // --- reconciliation: what is there now against what was known ---

  private find(path: string): { parent: DirNode; name: string } | undefined {
    let node = this.rootNode;
    if (node === undefined || !path.startsWith(`${this.root}/`)) return undefined;
    const parts = path.slice(this.root.length + 1).split('/');
    for (const part of parts.slice(0, -1)) {
      const next: DirNode | undefined = node.children.get(part);
      if (next === undefined) return undefined;
      node = next;
    }
    const name = parts.at(-1);
    return name === undefined ? undefined : { parent: node, name };
  }

  private reconcilePath(path: string, source: EventSource, noticedAt: number): void {
    const found = this.find(path);
    if (found) this.reconcileChild(found.parent, found.name, source, noticedAt);
    else if (path === this.rootNode?.path) this.reconcileRoot(source, noticedAt);
  }

  private reconcileRoot(source: EventSource | undefined, noticedAt: number): void {
    const stat = lstatSync(this.root, { throwIfNoEntry: false });
    const current = this.rootNode;
    if (current && stat?.isDirectory() && stat.ino === current.ino) {
      this.rescanChildren(current, source ?? 'rescan', noticedAt);
      return;
    }
    if (current) {
      this.removeTree(current, source ?? 'inotify', noticedAt);
      this.rootNode = undefined;
      this.emit(
        {
          type: 'root-removed',
          hierarchy: this.name,
          dir: this.root,
          source: source ?? 'inotify',
          noticedAt,
        },
        source,
      );
    }
    if (!stat?.isDirectory()) return;
    const node: DirNode = {
      kind: 'root',
      path: this.root,
      ino: stat.ino,
      tier: undefined,
      uid: undefined,
      children: new Map(),
      watcher: undefined,
    };
    this.rootNode = node;
    this.emit(
      { type: 'root-added', hierarchy: this.name, dir: this.root, source: source ?? 'initial', noticedAt },
      source,
    );
    this.attach(node, noticedAt);
    this.rescanChildren(node, source, noticedAt);
  }

  /** Lists a directory and reconciles every entry that can be a tier, pod or container, and every known one. */
  private rescanChildren(node: DirNode, source: EventSource | undefined, noticedAt: number): void {
    let names: string[];
    try {
      names = readdirSync(node.path, { withFileTypes: true })
        .filter(e => e.isDirectory())
        .map(e => e.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // its own removal is on its way
      throw error;
    }
    for (const name of new Set([...names, ...node.children.keys()]))
      this.reconcileChild(node, name, source, noticedAt);
  }

  private reconcileChild(
    parent: DirNode,
    name: string,
    source: EventSource | undefined,
    noticedAt: number,
  ): void {
    const shape = childKind(parent, this.owner.driver, name);
    if (!shape) return;
    const path = join(parent.path, name);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    const known = parent.children.get(name);
    if (known && stat?.isDirectory() && stat.ino === known.ino) {
      this.revisit(known, source, noticedAt);
      return;
    }
    if (known) {
      this.removeTree(known, source ?? 'inotify', noticedAt);
      parent.children.delete(name);
    }
    if (!stat?.isDirectory()) return;
    const node: DirNode = {
      kind: shape.kind,
      path,
      ino: stat.ino,
      tier: shape.tier,
      uid: shape.uid,
      children: new Map(),
      watcher: undefined,
    };
    parent.children.set(name, node);
    this.emitAdded(node, parent, source, noticedAt);
    if (node.kind === 'container') return;
    // Watch first, then list: a child created in between is seen by one or the other (both is harmless).
    this.attach(node, noticedAt);
    this.rescanChildren(node, source, noticedAt);
  }

  /**
   * An unchanged pod or tier is looked into again on a rescan, or when it has no watch (watch limit): a hint may
   * stand for a batch the kernel coalesced, and without a watch a rescan is the only way to see its children.
   */
  private revisit(known: DirNode, source: EventSource | undefined, noticedAt: number): void {
    if (known.kind === 'container' || (source !== 'rescan' && known.watcher)) return;
    this.attach(known, noticedAt);
    this.rescanChildren(known, source, noticedAt);
  }

  private emitAdded(
    node: DirNode,
    parent: DirNode,
    source: EventSource | undefined,
    noticedAt: number,
  ): void {
    if (node.uid === undefined) return;
    const common = {
      hierarchy: this.name,
      dir: node.path,
      source: source ?? 'initial',
      noticedAt,
      uid: node.uid,
      kubeQoS: kubeQoSOfTier(node.tier),
    };
    if (node.kind === 'pod') this.emit({ type: 'pod-added', ...common }, source);
    else if (node.kind === 'container')
      this.emit(
        { type: 'container-added', ...common, container: basename(node.path), podDir: parent.path },
        source,
      );
  }

  /** Forgets a directory and everything under it, reporting containers, then their pod (kubelet's order). */
  private removeTree(node: DirNode, source: EventSource, noticedAt: number): void {
    for (const child of node.children.values()) this.removeTree(child, source, noticedAt);
    node.children.clear();
    node.watcher?.close();
    node.watcher = undefined;
    if (node.uid === undefined) return;
    const common = {
      hierarchy: this.name,
      dir: node.path,
      source,
      noticedAt,
      uid: node.uid,
      kubeQoS: kubeQoSOfTier(node.tier),
    };
    if (node.kind === 'pod') this.emit({ type: 'pod-removed', ...common }, source);
    else if (node.kind === 'container')
      this.emit(
        { type: 'container-removed', ...common, container: basename(node.path), podDir: dirname(node.path) },
        source,
      );
  }

  /** Start-up without reportExisting records silently (source undefined); everything else is reported. */
  private emit(event: CgroupWatchEvent, source: EventSource | undefined): void {
    if (source === undefined && !this.owner.reportExisting) return;
    this.owner.deliver(event);
  }

  // --- watch limit: periodic rescans until every directory is watched again ---

  private enterRescanMode(error: unknown, noticedAt: number): void {
    if (this.limited) return;
    this.limited = true;
    const rescanMs = this.owner.rescanMs;
    this.owner.deliver({
      type: 'watch-limit',
      hierarchy: this.name,
      dir: this.root,
      source: 'inotify',
      noticedAt,
      error: (error as Error).message,
      rescanMs,
    });
    this.rescanTimer = setInterval(() => {
      this.rescan();
    }, rescanMs);
    this.rescanTimer.unref();
  }

  private rescan(): void {
    if (this.closed) return;
    const noticedAt = performance.now();
    this.attach(this.parent, noticedAt);
    this.reconcileRoot('rescan', noticedAt);
    if (this.allWatched()) {
      clearInterval(this.rescanTimer);
      this.rescanTimer = undefined;
      this.limited = false;
      this.owner.deliver({
        type: 'watch-restored',
        hierarchy: this.name,
        dir: this.root,
        source: 'rescan',
        noticedAt,
      });
    }
  }

  private allWatched(): boolean {
    const visit = (node: DirNode): boolean =>
      (node.kind === 'container' || node.watcher !== undefined) && [...node.children.values()].every(visit);
    return this.parent.watcher !== undefined && (this.rootNode === undefined || visit(this.rootNode));
  }
}

export class CgroupWatcher {
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
  snapshot(): Map<string, Map<string, { kubeQoS: KubeQoS; dir: string; containers: string[] }>> {
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
