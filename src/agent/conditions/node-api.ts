// The agent's reads and writes of its own Node: its conditions (nodes/status) and the BE pressure taint.
import type { LiteKubeClient } from '../../kube/lite/client.ts';
import type { NodeCondition } from './transition.ts';

type KubeRequester = Pick<LiteKubeClient, 'request'>;

/**
 * Strategic merge patch of nodes/status: conditions merge by type, so kubelet's own (Ready, MemoryPressure) stay as
 * they are (node-problem-detector writes its conditions the same way).
 */
export async function patchNodeConditions(
  client: KubeRequester,
  nodeName: string,
  conditions: readonly NodeCondition[],
): Promise<void> {
  await client.request('PATCH', `/api/v1/nodes/${encodeURIComponent(nodeName)}/status`, {
    body: { status: { conditions } },
    contentType: 'application/strategic-merge-patch+json',
    timeoutMs: 15_000,
  });
}

export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
  readonly timeAdded?: string;
}

/** What the agent reads of its Node: conditions (kept times) and taints, with the resourceVersion they are from. */
export async function readNode(
  client: KubeRequester,
  nodeName: string,
): Promise<{ conditions: NodeCondition[]; taints: NodeTaint[]; resourceVersion: string }> {
  const node = await client.request<{
    metadata?: { resourceVersion?: string };
    spec?: { taints?: NodeTaint[] };
    status?: { conditions?: NodeCondition[] };
  }>('GET', `/api/v1/nodes/${encodeURIComponent(nodeName)}`);
  return {
    conditions: node.status?.conditions ?? [],
    taints: node.spec?.taints ?? [],
    resourceVersion: node.metadata?.resourceVersion ?? '',
  };
}

/**
 * The Node's whole taint list, as a merge patch conditioned on the resourceVersion it was computed from: a taint
 * another writer added meanwhile is never dropped (409, recomputed next time).
 */
export async function patchNodeTaints(
  client: KubeRequester,
  nodeName: string,
  taints: readonly NodeTaint[],
  resourceVersion: string,
): Promise<void> {
  await client.request('PATCH', `/api/v1/nodes/${encodeURIComponent(nodeName)}`, {
    body: { metadata: { resourceVersion }, spec: { taints } },
    contentType: 'application/merge-patch+json',
    timeoutMs: 15_000,
  });
}
