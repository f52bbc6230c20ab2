// Builders for planner tests: policies, nodes and pods with only the fields under test spelled out.
import type { Node, Pod } from '../../src/api/inputs.ts';
import type { NodeQoSPolicy, PolicySpec } from '../../src/api/policy.ts';
import { policySchema } from '../../src/api/policy.ts';

let uidCounter = 0;

export function uid(n?: number): string {
  const value = n ?? ++uidCounter;
  return `00000000-0000-4000-8000-${value.toString(16).padStart(12, '0')}`;
}

export function policy(spec: PolicySpec = {}, name = 'p'): NodeQoSPolicy {
  return policySchema.parse({
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeQoSPolicy',
    metadata: { name },
    spec,
  });
}

export function node(cpu: string, allocatableCpu = cpu, labels: Record<string, string> = {}): Node {
  return {
    metadata: { name: 'n1', labels },
    status: { capacity: { cpu, memory: '64Gi' }, allocatable: { cpu: allocatableCpu, memory: '62Gi' } },
  };
}

export interface PodOptions {
  name?: string;
  namespace?: string;
  uid?: string;
  qos?: string;
  cpu?: string;
  cpuLimit?: string;
  memory?: string;
  memoryLimit?: string;
  created?: string;
  numa?: number;
}

export function pod(o: PodOptions = {}): Pod {
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  if (o.cpuLimit) limits.cpu = o.cpuLimit;
  if (o.memoryLimit) limits.memory = o.memoryLimit;
  return {
    metadata: {
      name: o.name ?? `pod-${++uidCounter}`,
      namespace: o.namespace ?? 'default',
      uid: o.uid ?? uid(),
      labels: o.qos ? { 'nodeqos.io/qos-class': o.qos } : {},
      annotations: o.numa === undefined ? {} : { 'nodeqos.io/numa-node': String(o.numa) },
      creationTimestamp: o.created ?? '2026-01-01T00:00:00Z',
    },
    spec: { nodeName: 'n1', containers: [{ name: 'c', resources: { requests, limits } }] },
  };
}

/** Guaranteed pod of a class: request = limit. */
export function guaranteed(qos: string, cpu: string, memory = '1Gi', extra: PodOptions = {}): Pod {
  return pod({ qos, cpu, cpuLimit: cpu, memory, memoryLimit: memory, ...extra });
}

export function twoNumaTopology(
  cpusPerNuma = 8,
  threadsPerCore = 1,
): { cpus: { id: number; core: number; socket: number; numa: number }[] } {
  const total = cpusPerNuma * 2;
  return {
    cpus: Array.from({ length: total }, (_, id) => ({
      id,
      core: Math.floor(id / threadsPerCore),
      socket: Math.floor(id / cpusPerNuma),
      numa: Math.floor(id / cpusPerNuma),
    })),
  };
}
