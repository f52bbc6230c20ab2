// The last steps every write shares: admission (schema, then admission policies), managedFields for non-apply
// writes, dry run, and the store.
import type { IncomingMessage } from 'node:http';
import { admit, parseFieldValidation, type FieldValidation } from './admission.ts';
import { attributesOfWrite } from './admission-policy/attributes.ts';
import type { AdmissionPolicies } from './admission-policy/policy-admission.ts';
import { checkAdmissionObject } from './admission-policy/policy-objects.ts';
import type { TokenAuthority } from './authn/tokens.ts';
import type { UserInfo } from './authn/user-info.ts';
import { badRequest } from './api-error.ts';
import { randomUUID } from 'node:crypto';
import { cloneJson, isJsonObject, type JsonObject } from './json.ts';
import type { FieldScope } from './patch/field-paths.ts';
import { readManagedFields, recordUpdate, writeManagedFields } from './patch/managed-fields.ts';
import { apiVersionOf, type ResourceType } from './resource-types.ts';
import type { Subresource } from './routes.ts';
import type { ObjectStore } from './store.ts';

export interface ServerContext {
  readonly store: ObjectStore;
  readonly now: () => Date;
  readonly tokens: TokenAuthority;
  readonly policies: AdmissionPolicies;
}

export interface WriteParams {
  readonly dryRun: boolean;
  readonly fieldValidation: FieldValidation;
  /** fieldManager, or the User-Agent's product name as a real server defaults it. */
  readonly manager: string;
  readonly force: boolean;
  readonly fieldManagerGiven: boolean;
  /** Who sent the request (authn/tokens.ts): what admission policies see as request.userInfo. */
  readonly user: UserInfo;
}

function defaultManager(req: IncomingMessage): string {
  const agent = req.headers['user-agent'] ?? '';
  const product = agent.split('/')[0]?.trim() ?? '';
  return product === '' ? 'unknown' : product.slice(0, 128);
}

export function writeParams(query: URLSearchParams, req: IncomingMessage, user: UserInfo): WriteParams {
  const dryRun = query.getAll('dryRun');
  if (dryRun.some(value => value !== 'All')) throw badRequest(`dryRun: supported values: "All"`);
  const force = query.get('force');
  if (force !== null && force !== 'true' && force !== 'false')
    throw badRequest('force: must be true or false');
  const manager = query.get('fieldManager');
  if (manager !== null && (manager === '' || manager.length > 128))
    throw badRequest('fieldManager: must be 1 to 128 characters');
  return {
    dryRun: dryRun.length > 0,
    fieldValidation: parseFieldValidation(query.get('fieldValidation')),
    manager: manager ?? defaultManager(req),
    force: force === 'true',
    fieldManagerGiven: manager !== null,
    user,
  };
}

export function time(now: () => Date): string {
  return now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
}

/** What a write to the main resource or to /status may change. */
export function writeScope(type: ResourceType, subresource: Subresource | undefined): FieldScope {
  if (subresource === 'status') return 'status';
  return type.statusSubresource ? 'main' : 'all';
}

/** Restricts a candidate to its scope: main writes keep the stored status, status writes only change status. */
export function confineToScope(
  candidate: JsonObject,
  current: Readonly<JsonObject>,
  scope: FieldScope,
): JsonObject {
  if (scope === 'all') return candidate;
  if (scope === 'main') {
    const next = cloneJson(candidate);
    const status = current.status;
    if (status === undefined) delete next.status;
    else next.status = cloneJson(status);
    return next;
  }
  const next = cloneJson(current as JsonObject);
  const status = candidate.status;
  if (status === undefined) delete next.status;
  else next.status = cloneJson(status);
  return next;
}

export interface WriteRequest {
  readonly type: ResourceType;
  readonly before: Readonly<JsonObject> | undefined;
  readonly candidate: JsonObject;
  readonly scope: FieldScope;
  readonly params: WriteParams;
  /** resourceVersion the caller's change is based on (409 when stale). */
  readonly precondition: string | undefined;
  /** Apply already computed managedFields; other writes record an Update entry here. */
  readonly managedFieldsDone: boolean;
}

export interface WriteResult {
  readonly object: JsonObject;
  readonly created: boolean;
  readonly warnings: readonly string[];
}

/** Empty labels and annotations maps are dropped, as ObjectMeta's `omitempty` does on a real server. */
function dropEmptyMetadataMaps(object: JsonObject): void {
  const metadata = object.metadata;
  if (!isJsonObject(metadata)) return;
  for (const field of ['labels', 'annotations']) {
    const value = metadata[field];
    if (isJsonObject(value) && Object.keys(value).length === 0) Reflect.deleteProperty(metadata, field);
  }
}

function stampDryRunCreate(object: JsonObject, now: Date): void {
  const metadata = object.metadata;
  if (!isJsonObject(metadata)) return;
  metadata.uid = randomUUID();
  metadata.creationTimestamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  metadata.generation = 1;
}

export function commitWrite(ctx: ServerContext, request: WriteRequest): WriteResult {
  const { type, before, params } = request;
  const admitted = admit({
    type,
    object: request.candidate,
    old: before,
    fieldValidation: params.fieldValidation,
  });
  const object = admitted.object;
  dropEmptyMetadataMaps(object);
  checkAdmissionObject(type, object);
  const policyWarnings = ctx.policies.enforce(
    attributesOfWrite({
      type,
      subResource: request.scope === 'status' ? 'status' : '',
      object,
      oldObject: before,
      user: params.user,
      dryRun: params.dryRun,
    }),
  );
  const warnings = [...admitted.warnings, ...policyWarnings];
  if (request.managedFieldsDone) writeManagedFields(object, readManagedFields(object));
  else {
    const apiVersion = apiVersionOf(type);
    recordUpdate({
      before,
      after: object,
      manager: params.manager,
      scope: request.scope,
      schema: type.schema,
      apiVersion,
      time: time(ctx.now),
    });
  }
  if (params.dryRun) {
    // A dry-run create shows what would be stored, server-owned fields included (as a real server does).
    if (before === undefined) stampDryRunCreate(object, ctx.now());
    return { object, created: before === undefined, warnings };
  }
  const stored =
    before === undefined
      ? ctx.store.create(type.key, object)
      : ctx.store.update(type.key, object, { precondition: request.precondition });
  return { object: stored, created: before === undefined, warnings };
}
