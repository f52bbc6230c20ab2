// Everything the planner needs to know about one pod, derived once.
import type { KubeQoS, QoSClass } from '../api/group.ts';
import type { Pod } from '../api/inputs.ts';
import { numaNodeAnnotation } from '../api/labels.ts';
import { kubeQoSOf, qosClassOf } from './qos.ts';
import { podResources, type PodResources } from './resources.ts';

export const podUidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export interface PodFacts extends PodResources {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly qosClass: QoSClass;
  readonly kubeQoS: KubeQoS;
  readonly creationTimestamp: string;
  readonly preferredNuma: number | undefined;
}

export type PodFactsResult =
  { ok: true; facts: PodFacts; warning?: string } | { ok: false; key: string; reason: string };

function preferredNuma(pod: Pod): number | undefined {
  const value = pod.metadata.annotations?.[numaNodeAnnotation];
  return value !== undefined && /^[0-9]{1,3}$/.test(value) ? Number(value) : undefined;
}

export function podFacts(pod: Pod): PodFactsResult {
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  if (!podUidPattern.test(pod.metadata.uid)) {
    return {
      ok: false,
      key,
      reason: 'skipped: metadata.uid is not a pod UID, so its cgroup cannot be located',
    };
  }
  let resources: PodResources;
  try {
    resources = podResources(pod);
  } catch (error) {
    return { ok: false, key, reason: `skipped: ${(error as Error).message}` };
  }
  const kubeQoS = kubeQoSOf(pod);
  const { qosClass, invalidLabel } = qosClassOf(pod, kubeQoS);
  const facts: PodFacts = {
    ...resources,
    uid: pod.metadata.uid.toLowerCase(),
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    key,
    qosClass,
    kubeQoS,
    creationTimestamp: pod.metadata.creationTimestamp ?? '',
    preferredNuma: preferredNuma(pod),
  };
  return invalidLabel
    ? { ok: true, facts, warning: `label ${invalidLabel} is not LSE, LSR, LS or BE; using ${qosClass}` }
    : { ok: true, facts };
}
