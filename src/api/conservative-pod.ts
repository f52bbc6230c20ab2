// Pods the planner cannot read in full (a container list past the schema's cap, a quantity no parser takes) are
// still planned, conservatively: the class their label or Kubernetes QoS gives, never pinned, no memory
// protection, lowest weights, and a warning. Dropping them would let any pod creator step out of BE suppression.
import { kubeQoSClasses, type KubeQoS } from './group.ts';
import { podSchema, type Pod } from './inputs.ts';
import { fieldProblems } from './issues.ts';
import { koordinatorQoSLabel, qosClassLabel } from './labels.ts';

/**
 * Set only by the planner's own parsing (never taken from the object: the informer transform keeps just the
 * labels and annotations it knows): why the pod is planned conservatively.
 */
export const conservativeAnnotation = 'nodeqos.io/planned-conservatively';

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
}

/**
 * The parts of a pod the schema rejected that the planner can still trust: identity, node, class labels and
 * the Kubernetes QoS class (it locates the cgroup). Undefined when not even the name can be read.
 */
export function conservativePod(raw: unknown, reason: string): Pod | undefined {
  const object = record(raw);
  const metadata = record(object.metadata);
  const spec = record(object.spec);
  const status = record(object.status);
  const name = text(metadata.name, 253);
  if (name === undefined) return undefined;
  const labels = record(metadata.labels);
  const keptLabels = Object.fromEntries(
    [qosClassLabel, koordinatorQoSLabel].flatMap(key => {
      const value = text(labels[key], 63);
      return value === undefined ? [] : [[key, value]];
    }),
  );
  const qosClass = kubeQoSClasses.find(c => c === status.qosClass);
  const nodeName = text(spec.nodeName, 253);
  const phase = text(status.phase, 32);
  const creationTimestamp = text(metadata.creationTimestamp, 64);
  return {
    metadata: {
      name,
      namespace: text(metadata.namespace, 63) ?? 'default',
      uid: text(metadata.uid, 128) ?? '',
      labels: keptLabels,
      annotations: { [conservativeAnnotation]: reason.slice(0, 512) },
      ...(creationTimestamp === undefined ? {} : { creationTimestamp }),
    },
    spec: { ...(nodeName === undefined ? {} : { nodeName }), containers: [] },
    status: {
      ...(phase === undefined ? {} : { phase }),
      ...(qosClass === undefined ? {} : { qosClass: qosClass satisfies KubeQoS }),
    },
  };
}

export function conservativeReason(pod: Pod): string | undefined {
  return pod.metadata.annotations?.[conservativeAnnotation];
}

/**
 * A pod as the planner reads it, from the informer and from `nodeqos plan --pods` alike: parsed by the schema,
 * else kept conservatively with the schema's first problems as the reason. Undefined without a readable name.
 */
export function readPod(raw: unknown): Pod | undefined {
  const parsed = podSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = fieldProblems(parsed.error)
      .slice(0, 3)
      .map(p => `${p.path}: ${p.message}`)
      .join('; ');
    return conservativePod(raw, reason);
  }
  const annotations = parsed.data.metadata.annotations;
  if (annotations?.[conservativeAnnotation] === undefined) return parsed.data;
  // The marker is the planner's own: a pod cannot set it on itself.
  const rest = Object.fromEntries(
    Object.entries(annotations).filter(([key]) => key !== conservativeAnnotation),
  );
  return { ...parsed.data, metadata: { ...parsed.data.metadata, annotations: rest } };
}
