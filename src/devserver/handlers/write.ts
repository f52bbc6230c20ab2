// create (POST), update (PUT, main resource or /status), delete and deletecollection.
import { conflict, invalid, notFound } from '../api-error.ts';
import type { Reply } from '../http-io.ts';
import { isJsonObject, jsonText, type JsonObject, type JsonValue } from '../json.ts';
import {
  checkName,
  checkNamespace,
  checkTypeMeta,
  metadataField,
  prepareForCreate,
  requireObject,
} from '../object-meta.ts';
import type { ResourceTarget } from '../routes.ts';
import { selects } from '../selectors.ts';
import { nameOf, namespaceOf } from '../store.ts';
import {
  commitWrite,
  confineToScope,
  writeScope,
  type ServerContext,
  type WriteParams,
} from '../write-pipeline.ts';
import { attributesOfWrite, type AdmissionAttributes } from '../admission-policy/attributes.ts';
import { presentObject } from './present.ts';
import { selectionOf } from './read.ts';

function reply(
  target: ResourceTarget,
  object: JsonObject,
  status: number,
  warnings: readonly string[],
): Reply {
  return { status, body: presentObject(target.type, object), warnings };
}

export function handleCreate(
  ctx: ServerContext,
  target: ResourceTarget,
  body: JsonValue,
  params: WriteParams,
): Reply {
  const candidate = prepareForCreate(target.type, body, target);
  const result = commitWrite(ctx, {
    type: target.type,
    before: undefined,
    candidate,
    scope: 'all',
    params,
    precondition: undefined,
    managedFieldsDone: false,
  });
  return reply(target, result.object, 201, result.warnings);
}

function currentOrNotFound(ctx: ServerContext, target: ResourceTarget): JsonObject {
  const name = target.name ?? '';
  const current = ctx.store.get(target.type.key, target.namespace ?? '', name);
  if (current === undefined) throw notFound(target.type, name);
  return current;
}

export function handleUpdate(
  ctx: ServerContext,
  target: ResourceTarget,
  body: JsonValue,
  params: WriteParams,
): Reply {
  const object = requireObject(body, 'update');
  checkTypeMeta(target.type, object);
  const metadata = metadataField(object);
  checkName(metadata, target);
  checkNamespace(target.type, metadata, target);
  const rv = metadata.resourceVersion;
  const precondition = typeof rv === 'string' && rv !== '' ? rv : undefined;
  if (precondition === undefined && !target.type.allowUnconditionalUpdate) {
    throw invalid(target.type, target.name ?? '', [
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 0: must be specified for an update',
        field: 'metadata.resourceVersion',
      },
    ]);
  }
  const current = currentOrNotFound(ctx, target);
  const scope = writeScope(target.type, target.subresource);
  const result = commitWrite(ctx, {
    type: target.type,
    before: current,
    candidate: confineToScope(object, current, scope),
    scope,
    params,
    precondition,
    managedFieldsDone: false,
  });
  return reply(target, result.object, 200, result.warnings);
}

interface Preconditions {
  readonly resourceVersion: string | undefined;
  readonly uid: string | undefined;
}

/** DeleteOptions body (optional): preconditions on resourceVersion and uid. */
function preconditionsOf(body: JsonValue | undefined): Preconditions {
  const options = isJsonObject(body) ? body.preconditions : undefined;
  if (!isJsonObject(options)) return { resourceVersion: undefined, uid: undefined };
  const { resourceVersion, uid } = options;
  return {
    resourceVersion: typeof resourceVersion === 'string' ? resourceVersion : undefined,
    uid: typeof uid === 'string' ? uid : undefined,
  };
}

export function handleDelete(
  ctx: ServerContext,
  target: ResourceTarget,
  body: JsonValue | undefined,
  params: WriteParams,
): Reply {
  const current = currentOrNotFound(ctx, target);
  const { resourceVersion, uid } = preconditionsOf(body);
  const currentUid = metadataField(current).uid;
  if (uid !== undefined && uid !== currentUid) {
    throw conflict(
      target.type,
      target.name ?? '',
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${jsonText(currentUid)}`,
    );
  }
  const warnings = ctx.policies.enforce(deleteAttributes(target, current, params));
  if (params.dryRun) return reply(target, current, 200, warnings);
  const result = ctx.store.delete(target.type.key, namespaceOf(current), nameOf(current), {
    precondition: resourceVersion,
  });
  if (!result.pending && !target.type.builtin) return { ...deletedStatus(target, result.object), warnings };
  return reply(target, result.object, result.pending ? 202 : 200, warnings);
}

function deleteAttributes(
  target: ResourceTarget,
  current: Readonly<JsonObject>,
  params: WriteParams,
): AdmissionAttributes {
  return attributesOfWrite({
    type: target.type,
    subResource: '',
    object: undefined,
    oldObject: current,
    user: params.user,
    dryRun: params.dryRun,
  });
}

/**
 * A real server answers the immediate delete of a custom resource with a Success Status naming it
 * (apiextensions-apiserver's customresource store returns the status, not the object); built-in types return
 * the object.
 */
function deletedStatus(target: ResourceTarget, object: Readonly<JsonObject>): Reply {
  return {
    status: 200,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name: nameOf(object),
        group: target.type.group,
        kind: target.type.plural,
        uid: jsonText(metadataField(object).uid),
      },
    },
  };
}

export function handleDeleteCollection(
  ctx: ServerContext,
  target: ResourceTarget,
  query: URLSearchParams,
  params: WriteParams,
): Reply {
  const selection = selectionOf(target, query);
  const doomed = ctx.store
    .list(target.type.key, target.namespace)
    .filter(object => selects(selection, object));
  // Admission first for every object: a denial deletes none of them.
  for (const object of doomed) ctx.policies.enforce(deleteAttributes(target, object, params));
  if (!params.dryRun) {
    for (const object of doomed) ctx.store.delete(target.type.key, namespaceOf(object), nameOf(object));
  }
  return {
    status: 200,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { kind: target.type.plural, group: target.type.group },
    },
  };
}
