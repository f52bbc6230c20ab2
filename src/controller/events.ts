// Kubernetes Events for the transitions users look for, deduplicated so a flapping object does not spam.
import type { Logger } from 'pino';
import { errorMessage } from '../kube/errors.ts';
import type { KubeHttp } from '../kube/http.ts';

export interface EventRecorder {
  record(
    /** namespace: for namespaced objects (pods); cluster-scoped objects' events go to "default". */
    object: { kind: string; apiVersion: string; name: string; namespace?: string },
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void;
}

const eventNamespace = 'default'; // cluster-scoped objects' events live in "default", as kubectl describe expects
const dedupWindowMs = 10 * 60 * 1000;

export function kubeEventRecorder(http: KubeHttp, component: string, logger: Logger): EventRecorder {
  const recent = new Map<string, number>();
  return {
    record(object, type, reason, message) {
      const namespace = object.namespace ?? eventNamespace;
      const key = `${object.kind}/${namespace}/${object.name}/${reason}/${message}`;
      const now = Date.now();
      if ((recent.get(key) ?? 0) > now - dedupWindowMs) return;
      recent.set(key, now);
      const time = new Date(now).toISOString();
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${object.name}.`, namespace },
        involvedObject: {
          kind: object.kind,
          apiVersion: object.apiVersion,
          name: object.name,
          ...(object.namespace === undefined ? {} : { namespace: object.namespace }),
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component },
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      };
      http.request('POST', `/api/v1/namespaces/${namespace}/events`, { body }).catch((error: unknown) => {
        logger.warn({ reason, object: object.name, error: errorMessage(error) }, 'event not recorded');
      });
    },
  };
}
