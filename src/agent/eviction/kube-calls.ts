// The agent's calls for eviction on its lite client: the Eviction API, Events, and its Node's conditions.
import type { LiteKubeClient } from '../../kube/lite/client.ts';
import { KubeApiError } from '../../kube/lite/api-error.ts';
import { errorMessage } from '../../kube/errors.ts';
import type { EvictOutcome } from './round.ts';

export type KubeRequester = Pick<LiteKubeClient, 'request'>;

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

function causesOf(error: KubeApiError): string {
  const details = (error.status as { details?: { causes?: { message?: string }[] } } | undefined)?.details;
  return (details?.causes ?? []).flatMap(c => (c.message === undefined ? [] : [c.message])).join('; ');
}

/**
 * policy/v1 Eviction with the pod's UID as a precondition (a new pod of the same name is never hit). The pod's own
 * grace period applies. 404 = already gone; 429 = a PodDisruptionBudget; 500 = more than one budget.
 */
export async function evictPod(client: KubeRequester, pod: PodRef): Promise<EvictOutcome> {
  const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/eviction`;
  const body = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod.name, namespace: pod.namespace },
    deleteOptions: { preconditions: { uid: pod.uid } },
  };
  try {
    await client.request('POST', path, { body, timeoutMs: 15_000 });
    return { kind: 'evicted' };
  } catch (error) {
    if (!(error instanceof KubeApiError)) return { kind: 'failed', reason: errorMessage(error) };
    if (error.statusCode === 404) return { kind: 'gone' };
    const causes = causesOf(error);
    const reason = `HTTP ${error.statusCode}: ${causes === '' ? errorMessage(error) : causes}`.slice(0, 1024);
    return error.statusCode === 429 || error.statusCode === 500
      ? { kind: 'refused', reason }
      : { kind: 'failed', reason };
  }
}

export interface EventTarget {
  readonly kind: 'Pod' | 'Node';
  readonly name: string;
  /** Pods only; a Node's events go to "default", as kubectl describe node expects. */
  readonly namespace?: string;
  readonly uid?: string;
}

/** A core/v1 Event; failures are the caller's to log (an event is never worth failing a round for). */
export async function recordEvent(
  client: KubeRequester,
  target: EventTarget,
  event: { type: 'Normal' | 'Warning'; reason: string; message: string; component: string; now: Date },
): Promise<void> {
  const namespace = target.namespace ?? 'default';
  const time = event.now.toISOString();
  await client.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${target.name}.`, namespace },
      involvedObject: {
        kind: target.kind,
        apiVersion: 'v1',
        name: target.name,
        ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
        ...(target.uid === undefined ? {} : { uid: target.uid }),
      },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, 1024),
      source: { component: event.component },
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    },
    timeoutMs: 10_000,
  });
}
