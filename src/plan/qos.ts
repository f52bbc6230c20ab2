// Which nodeqos class and which Kubernetes QoS class a pod belongs to.
import { qosClasses, type KubeQoS, type QoSClass } from '../api/group.ts';
import type { Pod } from '../api/inputs.ts';

import { koordinatorQoSLabel, qosClassLabel } from '../api/labels.ts';

export { koordinatorQoSLabel, qosClassLabel };

type Container = Pod['spec']['containers'][number];

function has(list: Record<string, unknown> | undefined, name: string): boolean {
  return list?.[name] !== undefined;
}

function isGuaranteedContainer(container: Container): boolean {
  const { requests, limits } = container.resources ?? {};
  return ['cpu', 'memory'].every(name => {
    if (!has(limits, name)) return false;
    return !has(requests, name) || String(requests?.[name]) === String(limits?.[name]);
  });
}

/** Kubernetes QoS class per pkg/apis/core/helper/qos (status.qosClass wins when kubelet has set it). */
export function kubeQoSOf(pod: Pod): KubeQoS {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  const anyResource = containers.some(c =>
    ['cpu', 'memory'].some(n => has(c.resources?.requests, n) || has(c.resources?.limits, n)),
  );
  if (!anyResource) return 'BestEffort';
  return containers.every(isGuaranteedContainer) ? 'Guaranteed' : 'Burstable';
}

function parseClass(value: string | undefined): QoSClass | undefined {
  return qosClasses.find(c => c === value);
}

/** nodeqos class: our label, then Koordinator's, else from the Kubernetes QoS class. */
export function qosClassOf(pod: Pod, kubeQoS: KubeQoS): { qosClass: QoSClass; invalidLabel?: string } {
  const labels = pod.metadata.labels ?? {};
  for (const key of [qosClassLabel, koordinatorQoSLabel]) {
    const value = labels[key];
    if (value === undefined) continue;
    const parsed = parseClass(value);
    if (parsed) return { qosClass: parsed };
    return { qosClass: kubeQoS === 'BestEffort' ? 'BE' : 'LS', invalidLabel: `${key}=${value.slice(0, 63)}` };
  }
  return { qosClass: kubeQoS === 'BestEffort' ? 'BE' : 'LS' };
}
