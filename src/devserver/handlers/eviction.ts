// POST .../pods/<name>/eviction (policy/v1 Eviction): the API server's disruption check, then a delete. Follows
// pkg/registry/core/pod/storage/eviction.go (reference eviction.md section 3): pods that are not running, or
// already terminating, go without a check; more than one matching budget is a 500; a budget that allows no
// disruption is a 429 TooManyRequests; success deletes the pod and answers 201 with a Success Status.
//
// The budget's allowance is computed from the pods as they are now (the dev server has no disruption controller
// writing PodDisruptionBudget status): healthy = the selected pods that are Ready and not terminating; expected =
// status.expectedPods when a test seeds it (the disruption controller takes it from the owner's scale), else the
// pods the budget selects. A pod evicted a moment ago is terminating or gone, so it no longer counts as healthy.
import { selectorMatches } from '../../api/selector.ts';
import type { LabelSelector } from '../../api/meta.ts';
import { attributesOfSubresourceCreate } from '../admission-policy/attributes.ts';
import { ApiError, badRequest, conflict, internalError, notFound } from '../api-error.ts';
import type { Reply } from '../http-io.ts';
import { isJsonObject, jsonText, type JsonObject, type JsonValue } from '../json.ts';
import { labelsOf, metadataField, requireObject } from '../object-meta.ts';
import type { ResourceTarget } from '../routes.ts';
import { nameOf, namespaceOf } from '../store.ts';
import type { ServerContext, WriteParams } from '../write-pipeline.ts';

export const pdbResource = 'poddisruptionbudgets.policy';

function fieldOf(object: JsonObject, ...path: string[]): JsonValue | undefined {
  let at: JsonValue | undefined = object;
  for (const key of path) at = isJsonObject(at) ? at[key] : undefined;
  return at;
}

function terminating(pod: JsonObject): boolean {
  return metadataField(pod).deletionTimestamp !== undefined;
}

function ready(pod: JsonObject): boolean {
  const conditions = fieldOf(pod, 'status', 'conditions');
  return (
    Array.isArray(conditions) &&
    conditions.some(c => isJsonObject(c) && c.type === 'Ready' && c.status === 'True')
  );
}

/** minAvailable / maxUnavailable: an integer, or "N%" of expected rounded up (as the disruption controller does). */
function scaled(value: JsonValue | undefined, expected: number): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^([0-9]+)%$/.exec(value);
  if (match) return Math.ceil((Number(match[1]) * expected) / 100);
  return /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

interface Budget {
  readonly name: string;
  readonly expected: number;
  readonly healthy: number;
  readonly desiredHealthy: number;
}

function budgetOf(pdb: JsonObject, pods: readonly JsonObject[]): Budget {
  const selector = fieldOf(pdb, 'spec', 'selector') as LabelSelector | undefined;
  const selected = pods.filter(p => selectorMatches(selector, labelsOf(p)));
  const seeded = fieldOf(pdb, 'status', 'expectedPods');
  const expected = typeof seeded === 'number' ? seeded : selected.length;
  const healthy = selected.filter(p => ready(p) && !terminating(p)).length;
  const minAvailable = scaled(fieldOf(pdb, 'spec', 'minAvailable'), expected);
  const maxUnavailable = scaled(fieldOf(pdb, 'spec', 'maxUnavailable'), expected);
  const desiredHealthy =
    minAvailable ?? (maxUnavailable === undefined ? 0 : Math.max(0, expected - maxUnavailable));
  return { name: nameOf(pdb), expected, healthy, desiredHealthy };
}

/** The PodDisruptionBudgets of the pod's namespace whose selector matches it (an empty selector matches none). */
function budgetsFor(ctx: ServerContext, pod: JsonObject): JsonObject[] {
  const labels = labelsOf(pod);
  return ctx.store.list(pdbResource, namespaceOf(pod)).filter(pdb => {
    const selector = fieldOf(pdb, 'spec', 'selector');
    const empty =
      !isJsonObject(selector) ||
      (selector.matchLabels === undefined && selector.matchExpressions === undefined);
    return !empty && selectorMatches(selector, labels);
  });
}

function tooManyRequests(budget: Budget): ApiError {
  return new ApiError(
    429,
    'TooManyRequests',
    "Cannot evict pod as it would violate the pod's disruption budget.",
    {
      causes: [
        {
          reason: 'DisruptionBudget',
          message: `The disruption budget ${budget.name} needs ${budget.desiredHealthy} healthy pods and has ${budget.healthy} currently`,
        },
      ],
    },
  );
}

function checkEvictionBody(body: JsonValue, target: ResourceTarget): JsonObject {
  const eviction = requireObject(body, 'eviction');
  if (eviction.kind !== undefined && eviction.kind !== 'Eviction')
    throw badRequest(`kind ${jsonText(eviction.kind)} is not Eviction`);
  const name = metadataField(eviction).name;
  if (name !== target.name)
    throw badRequest(`name in URL does not match name in Eviction object: ${jsonText(name)}`);
  return eviction;
}

/** Whether the API server checks budgets for this pod at all: only running, non-terminating pods are protected. */
function needsBudget(pod: JsonObject): boolean {
  const phase = fieldOf(pod, 'status', 'phase');
  return !terminating(pod) && phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Pending';
}

function checkBudget(ctx: ServerContext, pod: JsonObject): void {
  const budgets = budgetsFor(ctx, pod);
  if (budgets.length > 1)
    throw internalError(
      'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    );
  const pdb = budgets[0];
  if (pdb === undefined) return;
  const pods = ctx.store.list('pods', namespaceOf(pod));
  const budget = budgetOf(pdb, pods);
  // An unready pod may go while the budget is otherwise met (IfHealthyBudget, the default policy).
  const allowed = ready(pod)
    ? budget.healthy - budget.desiredHealthy > 0
    : budget.healthy >= budget.desiredHealthy;
  if (!allowed) throw tooManyRequests(budget);
}

export function handleEviction(
  ctx: ServerContext,
  target: ResourceTarget,
  body: JsonValue,
  params: WriteParams,
): Reply {
  const eviction = checkEvictionBody(body, target);
  const name = target.name ?? '';
  // Admission comes first, as in the API server's eviction storage: a denied request learns nothing of the pod.
  const warnings = ctx.policies.enforce(
    attributesOfSubresourceCreate({
      resource: 'pods',
      subResource: 'eviction',
      kind: { group: 'policy', version: 'v1', kind: 'Eviction' },
      name,
      namespace: target.namespace ?? '',
      object: { apiVersion: 'policy/v1', kind: 'Eviction', ...eviction },
      user: params.user,
      dryRun: params.dryRun,
    }),
  );
  const pod = ctx.store.get('pods', target.namespace ?? '', name);
  if (pod === undefined) throw notFound(target.type, name);
  const uid = fieldOf(eviction, 'deleteOptions', 'preconditions', 'uid');
  if (typeof uid === 'string' && uid !== metadataField(pod).uid)
    throw conflict(
      target.type,
      name,
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${jsonText(metadataField(pod).uid)}`,
    );
  if (needsBudget(pod)) checkBudget(ctx, pod);
  if (!params.dryRun) ctx.store.delete('pods', namespaceOf(pod), nameOf(pod), {});
  return {
    status: 201,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' },
    warnings,
  };
}
