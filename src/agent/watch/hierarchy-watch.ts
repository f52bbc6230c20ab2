// One hierarchy's watch (a v1 controller mount, or the unified v2 tree): inotify hints on every directory that can
// hold pods or containers, reconciled against the directories really there, and periodic rescans while the kernel
// refuses watches. docs/decisions/0111 and cgroup-watcher.ts say why it is built this way.
import { lstatSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CgroupDriver } from '../cgroup/layout.ts';
import {
  childKind,
  dirEvent,
  findParent,
  isWatchLimit,
  newDirNode,
  parentDirOf,
  podsUnder,
  walk,
  type DirNode,
  type KnownPods,
} from './dir-node.ts';
import type { CgroupWatchEvent, EventSource, WatchedHierarchy, WatchFunction } from './events.ts';

/** What a hierarchy's watch needs from the watcher that owns it. */
export interface WatchOwner {
  readonly driver: CgroupDriver;
  readonly reportExisting: boolean;
  readonly debounceMs: number;
  readonly rescanMs: number;
  readonly watchFn: WatchFunction;
  deliver(event: CgroupWatchEvent): void;
  reportError(error: unknown): void;
}

export class HierarchyWatch {
  readonly name: string;
  readonly root: string;
  private readonly owner: WatchOwner;
  private readonly parent: DirNode;
  private rootNode: DirNode | undefined;
  private readonly pending = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private limited = false;
  private closed = false;

  constructor(owner: WatchOwner, hierarchy: WatchedHierarchy) {
    this.owner = owner;
    this.name = hierarchy.name;
    this.root = hierarchy.root;
    const parentPath = dirname(hierarchy.root);
    const stat = lstatSync(parentPath, { throwIfNoEntry: false });
    if (!stat?.isDirectory())
      throw new Error(
        `cgroup watch ${hierarchy.name}: ${parentPath} (the parent of ${hierarchy.root}) is not a directory`,
      );
    this.parent = newDirNode('parent', parentPath, stat.ino);
  }

  start(source: EventSource | undefined): void {
    this.attach(this.parent, performance.now());
    this.reconcileRoot(source, performance.now());
  }

  /** Known pods (uid -> container names) in this hierarchy. */
  pods(): KnownPods {
    return podsUnder(this.rootNode);
  }

  get watchCount(): number {
    let count = 0;
    for (const node of walk(this.parent, this.rootNode)) if (node.watcher) count++;
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
    for (const node of walk(this.parent, this.rootNode)) {
      node.watcher?.close();
      node.watcher = undefined;
    }
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

  private reconcilePath(path: string, source: EventSource, noticedAt: number): void {
    const found = findParent(this.rootNode, path);
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
    const node = newDirNode('root', this.root, stat.ino);
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
    const node = newDirNode(shape.kind, path, stat.ino, shape);
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
    const at = { hierarchy: this.name, source: source ?? 'initial', noticedAt, podDir: parent.path };
    const event = dirEvent(node, 'added', at);
    if (event) this.emit(event, source);
  }

  /** Forgets a directory and everything under it, reporting containers, then their pod (kubelet's order). */
  private removeTree(node: DirNode, source: EventSource, noticedAt: number): void {
    for (const child of node.children.values()) this.removeTree(child, source, noticedAt);
    node.children.clear();
    node.watcher?.close();
    node.watcher = undefined;
    const at = { hierarchy: this.name, source, noticedAt, podDir: parentDirOf(node) };
    const event = dirEvent(node, 'removed', at);
    if (event) this.emit(event, source);
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
    return [...walk(this.parent, this.rootNode)].every(
      node => node.kind === 'container' || node.watcher !== undefined,
    );
  }
}
