// What the controller knows about the cluster: the informer caches plus an index of pods by node.
import type { PlanSpec } from '../api/plan.ts';
import type { Topology } from '../api/topology.ts';
import type { Informer } from '../kube/informer.ts';
import type { CachedNode, CachedPlan, CachedPod, CachedPolicy } from '../kube/transforms.ts';

export interface ClusterState {
  readonly policies: Pick<Informer<CachedPolicy>, 'list' | 'get'>;
  readonly nodes: Pick<Informer<CachedNode>, 'list' | 'get'>;
  readonly plans: Pick<Informer<CachedPlan>, 'list' | 'get'>;
  podsOn(nodeName: string): CachedPod[];
  /**
   * The spec this controller last wrote per node, and the resourceVersion the server stored it as. The plan cache
   * catches up only when the write's watch event arrives; until then this, not the cache, is the previous plan
   * (pins) and what a new plan is compared with.
   */
  readonly written: Map<string, WrittenPlan>;
  /** Plans whose stored version this build's schema rejects (the informer evicted them), by node. */
  readonly rejectedPlans: Map<string, RejectedPlan>;
}

export interface WrittenPlan {
  readonly spec: PlanSpec;
  readonly resourceVersion: string;
}

/** A stored plan the plan informer rejected: it must be rewritten, keeping the pins of the last plan we knew. */
export interface RejectedPlan {
  /** The rejected version's resourceVersion. */
  readonly resourceVersion: string;
  /** The last accepted spec (ours if we wrote one): where pinned pods keep their CPUs. */
  readonly previous: PlanSpec | undefined;
  readonly topology: Topology | undefined;
  /** The resourceVersion our rewrite produced; when that version is rejected too, rewriting again cannot help. */
  rewrittenAs: string | undefined;
}

/** Pods grouped by spec.nodeName, maintained from informer events. */
export class PodIndex {
  private readonly byNode = new Map<string, Map<string, CachedPod>>();

  private static key(pod: CachedPod): string {
    return `${pod.metadata.namespace}/${pod.metadata.name}`;
  }

  upsert(pod: CachedPod): void {
    const node = pod.spec.nodeName ?? '';
    let pods = this.byNode.get(node);
    if (!pods) {
      pods = new Map();
      this.byNode.set(node, pods);
    }
    pods.set(PodIndex.key(pod), pod);
  }

  remove(pod: CachedPod): void {
    const node = pod.spec.nodeName ?? '';
    const pods = this.byNode.get(node);
    pods?.delete(PodIndex.key(pod));
    if (pods?.size === 0) this.byNode.delete(node);
  }

  on(nodeName: string): CachedPod[] {
    return [...(this.byNode.get(nodeName)?.values() ?? [])];
  }
}
