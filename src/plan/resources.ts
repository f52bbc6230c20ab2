// Pod-level requests and limits, computed the way kubelet sizes the pod cgroup.
import { cpuToMilli, memoryToBytes } from '../api/quantity.ts';
import type { Pod } from '../api/inputs.ts';

export interface PodResources {
  readonly cpuRequestMilli: number;
  /** null when any container has no CPU limit (the pod is then unbounded). */
  readonly cpuLimitMilli: number | null;
  readonly memoryRequestBytes: number;
  readonly memoryLimitBytes: number | null;
}

type Container = Pod['spec']['containers'][number];
type Quantities = Record<string, string | number> | undefined;

function read(list: Quantities, name: 'cpu' | 'memory'): number | null {
  const value = list?.[name];
  if (value === undefined) return null;
  return name === 'cpu' ? cpuToMilli(value) : memoryToBytes(value);
}

function request(container: Container, name: 'cpu' | 'memory'): number {
  // A container with a limit and no request gets request = limit (API server defaulting).
  return read(container.resources?.requests, name) ?? read(container.resources?.limits, name) ?? 0;
}

function sumLimits(containers: readonly Container[], name: 'cpu' | 'memory'): number | null {
  let total = 0;
  for (const container of containers) {
    const limit = read(container.resources?.limits, name);
    if (limit === null) return null;
    total += limit;
  }
  return total;
}

/** Effective pod request: max(sum of app + sidecar containers, largest init container) + overhead. */
function effectiveRequest(pod: Pod, name: 'cpu' | 'memory'): number {
  const init = pod.spec.initContainers ?? [];
  const sidecars = init.filter(c => c.restartPolicy === 'Always');
  const appSum = [...pod.spec.containers, ...sidecars].reduce((sum, c) => sum + request(c, name), 0);
  const initMax = init
    .filter(c => c.restartPolicy !== 'Always')
    .reduce((max, c) => Math.max(max, request(c, name)), 0);
  return Math.max(appSum, initMax) + (read(pod.spec.overhead, name) ?? 0);
}

function effectiveLimit(pod: Pod, name: 'cpu' | 'memory'): number | null {
  const sidecars = (pod.spec.initContainers ?? []).filter(c => c.restartPolicy === 'Always');
  const appLimit = sumLimits([...pod.spec.containers, ...sidecars], name);
  if (appLimit === null) return null;
  const initLimits = (pod.spec.initContainers ?? []).filter(c => c.restartPolicy !== 'Always');
  const initMax = initLimits.reduce<number | null>((max, c) => {
    const limit = read(c.resources?.limits, name);
    return max === null || limit === null ? null : Math.max(max, limit);
  }, 0);
  if (initMax === null) return null;
  return Math.max(appLimit, initMax) + (read(pod.spec.overhead, name) ?? 0);
}

export function podResources(pod: Pod): PodResources {
  return {
    cpuRequestMilli: effectiveRequest(pod, 'cpu'),
    cpuLimitMilli: effectiveLimit(pod, 'cpu'),
    memoryRequestBytes: effectiveRequest(pod, 'memory'),
    memoryLimitBytes: effectiveLimit(pod, 'memory'),
  };
}
