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
