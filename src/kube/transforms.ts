// Informer transforms: keep only the fields the planner and the controller read, so a 150k-pod cache does
// not hold managedFields, full specs and statuses.
import { nodeSchema, type Node, type Pod } from '../api/inputs.ts';
import { planSchema, type NodeIsolationPlan } from '../api/plan.ts';
import { policySchema, type NodeQoSPolicy } from '../api/policy.ts';
import { fieldProblems, type FieldProblem } from '../api/issues.ts';
import { readPod } from '../api/conservative-pod.ts';
import {
  koordinatorQoSLabel,
  kubeletExclusiveCpusAnnotation,
  kubeletReservedCpusAnnotation,
  numaNodeAnnotation,
  qosClassLabel,
} from '../api/labels.ts';

export type CachedPod = Pod & { metadata: { resourceVersion: string } };
export type CachedNode = Node & { metadata: { resourceVersion: string } };
export type CachedPlan = NodeIsolationPlan & { metadata: { resourceVersion: string } };

/** A policy as the controller holds it: parsed when valid, with field problems when not. */
export interface CachedPolicy {
  readonly name: string;
  readonly generation: number;
  readonly resourceVersion: string;
  readonly policy: NodeQoSPolicy | undefined;
  readonly problems: readonly FieldProblem[];
  readonly status: NodeQoSPolicy['status'];
}

interface RawMeta {
  metadata?: {
    resourceVersion?: string;
    name?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

const keptPodLabels = [qosClassLabel, koordinatorQoSLabel];
const keptPodAnnotations = [numaNodeAnnotation];

function pick(
  record: Record<string, string> | undefined,
  keys: readonly string[],
): Record<string, string> | undefined {
  if (!record) return undefined;
  const out: Record<string, string> = {};
  for (const key of keys) if (record[key] !== undefined) out[key] = record[key];
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A watch event or list item that is not an object (null, a string) is dropped, never dereferenced. */
function isObject(raw: unknown): raw is RawMeta {
  return typeof raw === 'object' && raw !== null;
}

export function transformPod(raw: unknown): CachedPod | undefined {
  if (!isObject(raw)) return undefined;
  // Spread below: a string here would become one key per character (a 10 MB string, ten million keys).
  const meta = typeof raw.metadata === 'object' ? raw.metadata : undefined;
  const slim = {
    ...raw,
    metadata: {
      ...meta,
      labels: pick(meta?.labels, keptPodLabels),
      annotations: pick(meta?.annotations, keptPodAnnotations),
    },
  };
  // A pod the schema rejects is still planned (conservatively), never dropped: dropping it would take it out
  // of BE suppression and let it onto exclusive CPUs.
  const pod = readPod(slim);
  if (pod?.spec.nodeName === undefined) return undefined;
  return { ...pod, metadata: { ...pod.metadata, resourceVersion: meta?.resourceVersion ?? '' } };
}

const resourceNames = ['cpu', 'memory'];
const keptNodeAnnotations = [kubeletReservedCpusAnnotation, kubeletExclusiveCpusAnnotation];

export function transformNode(raw: unknown): CachedNode | undefined {
  const parsed = nodeSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { capacity, allocatable } = parsed.data.status;
  const keep = (
    list: Record<string, string | number> | undefined,
  ): Record<string, string | number> | undefined =>
    list && Object.fromEntries(Object.entries(list).filter(([name]) => resourceNames.includes(name)));
  return {
    metadata: {
      name: parsed.data.metadata.name,
      labels: parsed.data.metadata.labels,
      annotations: pick(parsed.data.metadata.annotations, keptNodeAnnotations),
      resourceVersion: (raw as RawMeta).metadata?.resourceVersion ?? '',
    },
    status: { capacity: keep(capacity), allocatable: keep(allocatable) },
  };
}

export function transformPolicy(raw: unknown): CachedPolicy | undefined {
  if (!isObject(raw)) return undefined;
  const meta = raw.metadata;
  if (typeof meta?.name !== 'string') return undefined;
  const parsed = policySchema.safeParse(raw);
  const status = (raw as { status?: NodeQoSPolicy['status'] }).status;
  return {
    name: meta.name,
    generation: meta.generation ?? 0,
    resourceVersion: meta.resourceVersion ?? '',
    policy: parsed.success ? parsed.data : undefined,
    problems: parsed.success ? [] : fieldProblems(parsed.error),
    status,
  };
}

export function transformPlan(raw: unknown): CachedPlan | undefined {
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  return {
    ...parsed.data,
    metadata: { ...parsed.data.metadata, resourceVersion: (raw as RawMeta).metadata?.resourceVersion ?? '' },
  };
}

/**
 * A plan this build's schema rejects (a newer controller's field, an edit made past an older CRD). The agent keeps
 * it rather than dropping it, so it can refuse it visibly (status Degraded) instead of missing it on a watch and
 * taking it for deleted on a relist.
 */
export interface InvalidPlan {
  readonly invalid: true;
  readonly metadata: { readonly name: string; readonly resourceVersion: string };
  readonly spec: unknown;
  readonly raw: unknown;
}

export function transformPlanKeepingInvalid(raw: unknown): CachedPlan | InvalidPlan | undefined {
  const plan = transformPlan(raw);
  if (plan) return plan;
  if (typeof raw !== 'object' || raw === null) return undefined;
  const meta = (raw as RawMeta).metadata;
  if (typeof meta?.name !== 'string') return undefined;
  return {
    invalid: true,
    metadata: { name: meta.name, resourceVersion: meta.resourceVersion ?? '' },
    spec: (raw as { spec?: unknown }).spec,
    raw,
  };
}
