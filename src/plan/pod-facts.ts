// Everything the planner needs to know about one pod, derived once.
import type { KubeQoS, QoSClass } from '../api/group.ts';
import type { Pod } from '../api/inputs.ts';
import { numaNodeAnnotation } from '../api/labels.ts';
import { conservativeReason } from '../api/conservative-pod.ts';
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
  /** Why the pod is planned conservatively (never pinned, no requests or limits read), if it is. */
  readonly conservative: string | undefined;
}

const unknownResources: PodResources = {
  cpuRequestMilli: 0,
  cpuLimitMilli: null,
  memoryRequestBytes: 0,
  memoryLimitBytes: null,
};

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
  let conservative = conservativeReason(pod);
  let resources: PodResources = unknownResources;
  if (conservative === undefined) {
    try {
      resources = podResources(pod);
    } catch (error) {
      conservative = (error as Error).message;
    }
  }
  const kubeQoS = kubeQoSOf(pod);
  const classified = qosClassOf(pod, kubeQoS);
  const { invalidLabel } = classified;
  // Pinning needs a trusted request: an unreadable LSE/LSR pod runs in the LS pool.
  const qosClass =
    conservative !== undefined && (classified.qosClass === 'LSE' || classified.qosClass === 'LSR')
      ? 'LS'
      : classified.qosClass;
  const facts: PodFacts = {
    ...resources,
    uid: pod.metadata.uid.toLowerCase(),
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    key,
    qosClass,
    kubeQoS,
    creationTimestamp: pod.metadata.creationTimestamp ?? '',
    preferredNuma: conservative === undefined ? preferredNuma(pod) : undefined,
    conservative,
  };
  const warnings = [
    ...(invalidLabel ? [`label ${invalidLabel} is not LSE, LSR, LS or BE; using ${qosClass}`] : []),
    ...(conservative === undefined
      ? []
      : [
          `planned conservatively as ${qosClass} (${kubeQoS}): never pinned, no requests, limits or memory protection read: ${conservative}`,
        ]),
  ];
  return warnings.length > 0 ? { ok: true, facts, warning: warnings.join('; ') } : { ok: true, facts };
}
