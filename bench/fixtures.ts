// Synthetic clusters for benchmarks: nodes, pods of every class, SMT topologies.
import type { Node, Pod } from '../src/api/inputs.ts';
import { policySchema, type NodeQoSPolicy } from '../src/api/policy.ts';
import type { Topology } from '../src/api/topology.ts';

export function smtTopology(sockets: number, coresPerSocket: number, threads = 2): Topology {
  const cpus: Topology['cpus'] = [];
  const physical = sockets * coresPerSocket;
  for (let t = 0; t < threads; t++)
    for (let core = 0; core < physical; core++) {
      const socket = Math.floor(core / coresPerSocket);
      cpus.push({ id: t * physical + core, core, socket, numa: socket });
    }
  return { cpus };
}

export function benchNode(name: string, cpus: number, labels: Record<string, string> = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    status: {
      capacity: { cpu: String(cpus), memory: '256Gi' },
      allocatable: { cpu: String(cpus - 1), memory: '250Gi' },
    },
  };
}

const classes = ['LSE', 'LSR', undefined, undefined, 'BE', 'BE'] as const;

export function benchPod(node: string, index: number): Pod {
  const qos = classes[index % classes.length];
  const whole = qos === 'LSE' || qos === 'LSR';
  const cpu = whole ? '1' : `${100 + (index % 7) * 50}m`;
  const resources =
    qos === 'BE'
      ? {}
      : {
          requests: { cpu, memory: '512Mi' },
          limits: { cpu: whole ? cpu : '2', memory: whole ? '512Mi' : '1Gi' },
        };
  return {
    metadata: {
      name: `pod-${index}`,
      namespace: `ns-${index % 10}`,
      uid: `${node.length.toString(16).padStart(8, '0')}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
      labels: qos ? { 'nodeqos.io/qos-class': qos } : {},
      creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString(),
    },
    spec: { nodeName: node, containers: [{ name: 'main', resources }] },
  };
}

export function benchPolicy(
  name = 'bench',
  priority = 0,
  nodeSelector: NodeQoSPolicy['spec']['nodeSelector'] = {},
): NodeQoSPolicy {
  return policySchema.parse({
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeQoSPolicy',
    metadata: { name },
    spec: { priority, nodeSelector },
  });
}

/**
 * Pods sized for a small real node (the kernel benchmarks run on this 2-CPU machine): pod 0 is an LSE pod
 * pinned to one whole CPU; the rest cycle through LS Guaranteed, LS Burstable, BE BestEffort and BE Burstable
 * with requests of a few millicores, so 110 of them fit.
 */
export function smallNodePod(node: string, index: number): Pod {
  const pod = benchPod(node, index);
  const shapes = [
    { qos: undefined, requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '20m', memory: '64Mi' } },
    { qos: undefined, requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
    { qos: 'BE', requests: undefined, limits: undefined },
    { qos: 'BE', requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
  ] as const;
  const lse = { qos: 'LSE', requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '1', memory: '256Mi' } };
  const shape = index === 0 ? lse : shapes[index % shapes.length];
  const resources = shape?.requests === undefined ? {} : { requests: shape.requests, limits: shape.limits };
  return {
    metadata: { ...pod.metadata, labels: shape?.qos ? { 'nodeqos.io/qos-class': shape.qos } : {} },
    spec: { nodeName: node, containers: [{ name: 'main', resources }] },
  };
}
