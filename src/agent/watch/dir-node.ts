// The watcher's picture of one hierarchy: a tree of the directories that can hold pods and containers, what kind
// each is, the events a directory's arrival or departure stands for, and walks over the tree.
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { KubeQoS } from '../../api/group.ts';
import type { CgroupDriver } from '../cgroup/layout.ts';
import { isContainerName, kubeQoSOfTier, podUidOf, tierOf, type Tier } from '../cgroup/kubepods-names.ts';
import type { CgroupWatchEvent, EventSource } from './events.ts';

export type Kind = 'parent' | 'root' | 'tier' | 'pod' | 'container';

export interface DirNode {
  readonly kind: Kind;
  readonly path: string;
  readonly ino: number;
  readonly tier: Tier | undefined;
  readonly uid: string | undefined;
  readonly children: Map<string, DirNode>;
  watcher: FSWatcher | undefined;
}

/** The kinds of directory a watched directory of this kind holds. */
export function childKind(
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

export const isWatchLimit = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EMFILE';
};

export function newDirNode(
  kind: Kind,
  path: string,
  ino: number,
  shape: { tier?: Tier | undefined; uid?: string | undefined } = {},
): DirNode {
  return { kind, path, ino, tier: shape.tier, uid: shape.uid, children: new Map(), watcher: undefined };
}

/** The event a pod or container directory's arrival or departure stands for (none for the root, tiers, parent). */
export function dirEvent(
  node: DirNode,
  change: 'added' | 'removed',
  at: { hierarchy: string; source: EventSource; noticedAt: number; podDir: string },
): CgroupWatchEvent | undefined {
  if (node.uid === undefined) return undefined;
  const common = {
    hierarchy: at.hierarchy,
    dir: node.path,
    source: at.source,
    noticedAt: at.noticedAt,
    uid: node.uid,
    kubeQoS: kubeQoSOfTier(node.tier),
  };
  if (node.kind === 'pod') return { type: change === 'added' ? 'pod-added' : 'pod-removed', ...common };
  if (node.kind === 'container')
    return {
      type: change === 'added' ? 'container-added' : 'container-removed',
      ...common,
      container: basename(node.path),
      podDir: at.podDir,
    };
  return undefined;
}

export const parentDirOf = (node: DirNode): string => dirname(node.path);

export type KnownPods = Map<string, { kubeQoS: KubeQoS; dir: string; containers: string[] }>;

/** Pods under a node (uid -> QoS, directory, container names). */
export function podsUnder(node: DirNode | undefined): KnownPods {
  const out: KnownPods = new Map();
  const visit = (at: DirNode): void => {
    for (const child of at.children.values()) {
      if (child.kind === 'pod' && child.uid !== undefined)
        out.set(child.uid, {
          kubeQoS: kubeQoSOfTier(child.tier),
          dir: child.path,
          containers: [...child.children.keys()].sort(),
        });
      else visit(child);
    }
  };
  if (node) visit(node);
  return out;
}

/** Every node of the given trees, depth first. */
export function* walk(...roots: (DirNode | undefined)[]): Generator<DirNode> {
  for (const root of roots) {
    if (root === undefined) continue;
    yield root;
    for (const child of root.children.values()) yield* walk(child);
  }
}

/** The known directory that holds `path` (somewhere under `root`) and the last part of the path. */
export function findParent(
  root: DirNode | undefined,
  path: string,
): { parent: DirNode; name: string } | undefined {
  let node = root;
  if (node === undefined || !path.startsWith(`${node.path}/`)) return undefined;
  const parts = path.slice(node.path.length + 1).split('/');
  for (const part of parts.slice(0, -1)) {
    const next: DirNode | undefined = node.children.get(part);
    if (next === undefined) return undefined;
    node = next;
  }
  const name = parts.at(-1);
  return name === undefined ? undefined : { parent: node, name };
}
