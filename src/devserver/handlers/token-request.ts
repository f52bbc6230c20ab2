// POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token (authentication.k8s.io/v1 TokenRequest): a token for
// the ServiceAccount, optionally bound to a Pod or Node, as kubelet asks for the token it mounts into a pod.
// Follows pkg/registry/core/serviceaccount/storage/token.go: the ServiceAccount must exist; a bound Pod must exist,
// match the given uid and run as that ServiceAccount; the user info of a pod-bound token carries the pod and the
// node it is scheduled to (extra authentication.kubernetes.io/node-name, node-uid when the Node exists).
import { randomUUID } from 'node:crypto';
import { attributesOfSubresourceCreate } from '../admission-policy/attributes.ts';
import { badRequest, conflict, invalid, notFound, resourceNamesOf, type StatusCause } from '../api-error.ts';
import { apiAudiences, type BoundObject } from '../authn/tokens.ts';
import type { UserInfo } from '../authn/user-info.ts';
import type { Reply } from '../http-io.ts';
import { isJsonObject, jsonText, type JsonObject, type JsonValue } from '../json.ts';
import { requireObject } from '../object-meta.ts';
import type { ResourceTarget } from '../routes.ts';
import { time, type ServerContext, type WriteParams } from '../write-pipeline.ts';

const extraPrefix = 'authentication.kubernetes.io';
const minExpirationSeconds = 600;
const maxExpirationSeconds = 2 ** 32;
const defaultExpirationSeconds = 3600;
const tokenRequestType = { ...resourceNamesOf('tokenrequests.authentication.k8s.io'), kind: 'TokenRequest' };

function str(object: JsonObject | undefined, key: string): string {
  const value = object?.[key];
  return typeof value === 'string' ? value : '';
}

function metadataOf(object: JsonObject | undefined): JsonObject | undefined {
  const metadata = object?.metadata;
  return isJsonObject(metadata) ? metadata : undefined;
}

function expirationOf(spec: JsonObject, name: string): number {
  const value: JsonValue | undefined = spec.expirationSeconds;
  if (value === undefined || value === null) return defaultExpirationSeconds;
  const causes: StatusCause[] = [];
  if (typeof value !== 'number' || !Number.isInteger(value))
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${jsonText(value)}: must be an integer`,
      field: 'spec.expirationSeconds',
    });
  else if (value < minExpirationSeconds)
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${value}: may not specify a duration less than 10 minutes`,
      field: 'spec.expirationSeconds',
    });
  else if (value > maxExpirationSeconds)
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${value}: may not specify a duration larger than 2^32 seconds`,
      field: 'spec.expirationSeconds',
    });
  if (causes.length > 0) throw invalid(tokenRequestType, name, causes);
  return value as number;
}

interface Binding {
  readonly bound: BoundObject;
  readonly extra: Record<string, string[]>;
}

function nodeExtra(ctx: ServerContext, nodeName: string): Record<string, string[]> {
  if (nodeName === '') return {};
  const nodeUid = str(metadataOf(ctx.store.get('nodes', '', nodeName)), 'uid');
  return {
    [`${extraPrefix}/node-name`]: [nodeName],
    ...(nodeUid === '' ? {} : { [`${extraPrefix}/node-uid`]: [nodeUid] }),
  };
}

function boundObject(
  ctx: ServerContext,
  kind: string,
  namespace: string,
  ref: JsonObject,
): {
  object: JsonObject;
  bound: BoundObject;
} {
  const name = str(ref, 'name');
  const resource = kind === 'Pod' ? 'pods' : 'nodes';
  const objectNamespace = kind === 'Pod' ? namespace : '';
  const object = ctx.store.get(resource, objectNamespace, name);
  if (object === undefined) throw notFound(resourceNamesOf(resource), name);
  const uid = str(metadataOf(object), 'uid');
  const wantedUid = str(ref, 'uid');
  if (wantedUid !== '' && wantedUid !== uid)
    throw conflict(
      resourceNamesOf(resource),
      name,
      `the UID in the bound object reference (${wantedUid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  return { object, bound: { resource, namespace: objectNamespace, name, uid } };
}

function bindTo(ctx: ServerContext, ref: JsonObject, namespace: string, account: string): Binding {
  const kind = str(ref, 'kind');
  const apiVersion = str(ref, 'apiVersion');
  if ((apiVersion !== 'v1' && apiVersion !== '') || (kind !== 'Pod' && kind !== 'Node'))
    throw badRequest(
      `cannot bind token to object of type ${jsonText(ref.apiVersion ?? '')}, ${jsonText(kind)}: the dev server binds tokens to v1 Pods and Nodes`,
    );
  const { object, bound } = boundObject(ctx, kind, namespace, ref);
  if (kind === 'Node') return { bound, extra: nodeExtra(ctx, bound.name) };
  const spec = isJsonObject(object.spec) ? object.spec : undefined;
  const podAccount = str(spec, 'serviceAccountName') || 'default';
  if (podAccount !== account)
    throw badRequest(
      `cannot bind token for serviceaccount "${account}" to pod running with different serviceaccount name.`,
    );
  return {
    bound,
    extra: {
      [`${extraPrefix}/pod-name`]: [bound.name],
      [`${extraPrefix}/pod-uid`]: [bound.uid],
      ...nodeExtra(ctx, str(spec, 'nodeName')),
    },
  };
}

function serviceAccountUser(
  namespace: string,
  name: string,
  uid: string,
  binding: Binding | undefined,
): UserInfo {
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    extra: { [`${extraPrefix}/credential-id`]: [`JTI=${randomUUID()}`], ...binding?.extra },
  };
}

/** No audiences: the API server's own, as kube-apiserver fills them in. */
function audiencesOf(spec: JsonObject): string[] {
  const requested = Array.isArray(spec.audiences)
    ? spec.audiences.filter((a): a is string => typeof a === 'string')
    : [];
  return requested.length > 0 ? requested : [...apiAudiences];
}

/** TokenRequests pass the admission policies too (CREATE serviceaccounts/token), as on a real server. */
function admitTokenRequest(
  ctx: ServerContext,
  target: ResourceTarget,
  tokenRequest: JsonObject,
  params: WriteParams,
): string[] {
  return ctx.policies.enforce(
    attributesOfSubresourceCreate({
      resource: 'serviceaccounts',
      subResource: 'token',
      kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
      name: target.name ?? '',
      namespace: target.namespace ?? '',
      object: tokenRequest,
      user: params.user,
      dryRun: params.dryRun,
    }),
  );
}

export function handleTokenRequest(
  ctx: ServerContext,
  target: ResourceTarget,
  body: JsonValue,
  params: WriteParams,
): Reply {
  const request = requireObject(body, 'token request');
  if (request.kind !== undefined && request.kind !== 'TokenRequest')
    throw badRequest(`kind ${jsonText(request.kind)} is not TokenRequest`);
  const namespace = target.namespace ?? '';
  const name = target.name ?? '';
  const account = ctx.store.get('serviceaccounts', namespace, name);
  if (account === undefined) throw notFound(target.type, name);
  const spec = isJsonObject(request.spec) ? request.spec : {};
  const expirationSeconds = expirationOf(spec, name);
  const ref = isJsonObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
  const binding = ref === undefined ? undefined : bindTo(ctx, ref, namespace, name);
  const accountUid = str(metadataOf(account), 'uid');
  const user = serviceAccountUser(namespace, name, accountUid, binding);
  const expiresAt = new Date(ctx.now().getTime() + expirationSeconds * 1000);
  const audiences = audiencesOf(spec);
  const filledSpec = { ...spec, audiences, expirationSeconds };
  const warnings = admitTokenRequest(
    ctx,
    target,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name, namespace },
      spec: filledSpec,
    },
    params,
  );
  const token = ctx.tokens.issue({
    user,
    audiences,
    serviceAccount: { namespace, name, uid: accountUid },
    bound: binding?.bound,
    expiresAt,
  });
  return {
    status: 201,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name, namespace, creationTimestamp: time(ctx.now) },
      spec: filledSpec,
      status: { token, expirationTimestamp: time(() => expiresAt) },
    },
    warnings,
  };
}
