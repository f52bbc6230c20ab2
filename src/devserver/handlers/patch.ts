// PATCH of the main resource or /status: JSON merge patch, JSON patch, strategic merge patch (built-in types
// only, like a real server) and server-side apply (creates the object when absent).
import {
  ApiError,
  badRequest,
  conflict,
  notFound,
  staleResourceVersion,
  unsupportedMediaType,
} from '../api-error.ts';
import { parseApplyBody, parseJsonBody, type Reply } from '../http-io.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import {
  checkName,
  checkNamespace,
  checkTypeMeta,
  metadataField,
  prepareForCreate,
  requireObject,
} from '../object-meta.ts';
import { applyJsonPatch, parseJsonPatch } from '../patch/json-patch.ts';
import { applyMergePatch } from '../patch/merge-patch.ts';
import { serverSideApply } from '../patch/server-side-apply.ts';
import { applyStrategicMergePatch } from '../patch/strategic-merge-patch.ts';
import { apiVersionOf } from '../resource-types.ts';
import type { ResourceTarget } from '../routes.ts';
import {
  commitWrite,
  confineToScope,
  time,
  writeScope,
  type ServerContext,
  type WriteParams,
} from '../write-pipeline.ts';
import { presentObject } from './present.ts';

export const patchTypes = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

function acceptedPatchTypes(target: ResourceTarget): string[] {
  const all = [patchTypes.json, patchTypes.merge, patchTypes.apply];
  return target.type.strategicMergePatch ? [...all, patchTypes.strategic] : all;
}

function patchDocument(current: JsonObject, contentType: string, body: Buffer): JsonValue {
  const document = parseJsonBody(body);
  if (contentType === patchTypes.json) return applyJsonPatch(current, parseJsonPatch(document));
  if (!isJsonObject(document)) throw badRequest('a merge patch must be a JSON object');
  return contentType === patchTypes.merge
    ? applyMergePatch(current, document)
    : applyStrategicMergePatch(current, document);
}

function checkPatched(
  target: ResourceTarget,
  current: JsonObject,
  patched: JsonValue,
): { object: JsonObject; precondition: string | undefined } {
  const object = requireObject(patched, 'patch');
  checkTypeMeta(target.type, object);
  const metadata = metadataField(object);
  checkName(metadata, target);
  checkNamespace(target.type, metadata, target);
  const rv = metadata.resourceVersion;
  const currentRv = metadataField(current).resourceVersion;
  // A resourceVersion the patch itself sets is a precondition, as on a real server.
  if (typeof rv === 'string' && rv !== currentRv)
    throw conflict(target.type, target.name ?? '', staleResourceVersion);
  return { object, precondition: typeof currentRv === 'string' ? currentRv : undefined };
}

function reply(
  target: ResourceTarget,
  object: JsonObject,
  created: boolean,
  warnings: readonly string[],
): Reply {
  return { status: created ? 201 : 200, body: presentObject(target.type, object), warnings };
}

/** Parses and checks an applied configuration: it must name its apiVersion and kind. */
function applyConfig(target: ResourceTarget, body: Buffer): JsonObject {
  const config = requireObject(parseApplyBody(body), 'apply');
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof config[field] !== 'string' || config[field] === '')
      throw badRequest(`apply: ${field} must be set`);
  }
  checkTypeMeta(target.type, config);
  const metadata = metadataField(config);
  checkName(metadata, target);
  checkNamespace(target.type, metadata, target);
  return config;
}

/** The object apply starts from: the stored one, or the skeleton of the one it creates. */
function applyBase(target: ResourceTarget, current: JsonObject | undefined, config: JsonObject): JsonObject {
  if (current === undefined) {
    if (target.subresource === 'status') throw notFound(target.type, target.name ?? '');
    const skeleton = {
      apiVersion: apiVersionOf(target.type),
      kind: target.type.kind,
      metadata: { name: target.name ?? '' },
    };
    return prepareForCreate(target.type, skeleton, target);
  }
  const rv = metadataField(config).resourceVersion;
  if (typeof rv === 'string' && rv !== metadataField(current).resourceVersion) {
    throw conflict(target.type, target.name ?? '', staleResourceVersion);
  }
  return current;
}

function applyPatch(ctx: ServerContext, target: ResourceTarget, body: Buffer, params: WriteParams): Reply {
  if (!params.fieldManagerGiven) {
    // As kube-apiserver validates PatchOptions: 422 Invalid on the PatchOptions kind, not a 400.
    throw new ApiError(
      422,
      'Invalid',
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      {
        group: 'meta.k8s.io',
        kind: 'PatchOptions',
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: is required for apply patch',
            field: 'fieldManager',
          },
        ],
      },
    );
  }
  const config = applyConfig(target, body);
  const current = ctx.store.get(target.type.key, target.namespace ?? '', target.name ?? '');
  const live = applyBase(target, current, config);
  const scope = writeScope(target.type, current === undefined ? undefined : target.subresource);
  const applied = serverSideApply({
    live,
    config,
    manager: params.manager,
    force: params.force,
    scope,
    schema: target.type.schema,
    apiVersion: apiVersionOf(target.type),
    time: time(ctx.now),
  });
  const result = commitWrite(ctx, {
    type: target.type,
    before: current,
    candidate: current === undefined ? applied : confineToScope(applied, current, scope),
    scope,
    params,
    precondition: undefined,
    managedFieldsDone: true,
  });
  return reply(target, result.object, result.created, result.warnings);
}

export interface PatchBody {
  readonly contentType: string;
  readonly body: Buffer;
}

export function handlePatch(
  ctx: ServerContext,
  target: ResourceTarget,
  patch: PatchBody,
  params: WriteParams,
): Reply {
  const { contentType, body } = patch;
  if (!acceptedPatchTypes(target).includes(contentType))
    throw unsupportedMediaType(acceptedPatchTypes(target));
  if (contentType !== patchTypes.apply && params.force)
    throw badRequest('force: may not be specified for non-apply patch');
  if (contentType === patchTypes.apply) return applyPatch(ctx, target, body, params);
  const current = ctx.store.get(target.type.key, target.namespace ?? '', target.name ?? '');
  if (current === undefined) throw notFound(target.type, target.name ?? '');
  const { object, precondition } = checkPatched(target, current, patchDocument(current, contentType, body));
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
  return reply(target, result.object, false, result.warnings);
}
