// A pinned pod that leaves the plan gives up its CPUs for good: the agent returns its cgroups to kubelet's values, and
// if the pod shows up again it is pinned afresh, perhaps on other CPUs. The pod cache can lag the server (a slow or
// re-listing pod watch, a replica that has just become leader), so a pinned pod missing from it may still exist.
// Before a plan drops a pinned pod, the pod is looked up on the server: still there, with the same uid and not finished,
// means the cache is behind, and the reconcile waits for it (the work queue retries) instead of writing.
import type { PlanSpec } from '../api/plan.ts';

/** The server still has a pod the pod cache has lost: plan again once the cache catches up. */
export class PodCacheBehindError extends Error {
  readonly pod: string;

  constructor(pod: string) {
    super(
      `pod ${pod} is pinned in the current plan and still exists, but the pod cache does not have it yet`,
    );
    this.name = 'PodCacheBehindError';
    this.pod = pod;
  }
}

/** The pod as the server has it (uid and phase), undefined when it does not exist. */
export type PodLookup = (
  namespace: string,
  name: string,
) => Promise<{ uid: string; phase: string | undefined } | undefined>;

/** Pods that finished stay on the server but leave the plan (src/plan/plan-node.ts). */
const finished = new Set(['Succeeded', 'Failed']);

/** Throws PodCacheBehindError when a pod pinned in `current` is missing from `next` but still exists. */
export async function confirmPinnedPodsGone(
  current: PlanSpec | undefined,
  next: PlanSpec,
  lookup: PodLookup,
): Promise<void> {
  const kept = new Set(next.pods.map(pod => pod.uid));
  for (const pod of current?.pods ?? []) {
    if (pod.cpu.pinned === 'shared' || kept.has(pod.uid)) continue;
    const onServer = await lookup(pod.namespace, pod.name);
    if (onServer?.uid === pod.uid && !finished.has(onServer.phase ?? ''))
      throw new PodCacheBehindError(`${pod.namespace}/${pod.name}`);
  }
}
