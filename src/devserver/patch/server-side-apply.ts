// Server-side apply, good enough for a controller or two: the applied configuration's fields become the
// manager's (recorded in managedFields); fields it applied before and now omits are removed unless another
// manager also owns them; changing a field another manager owns is a 409 conflict unless force is set.
// Lists are atomic unless the schema marks them `x-kubernetes-list-type: map` (built-in types: lists of
// objects with `name`); `set` lists are treated as atomic.
import { ApiError } from '../api-error.ts';
import { cloneJson, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from '../json.ts';
import { propertySchema, type CrdSchema } from '../schema/crd-schema.ts';
import {
  coversPath,
  decodePath,
  describePath,
  isElementPath,
  managedPaths,
  removePath,
  valueAt,
  type FieldScope,
} from './field-paths.ts';
import { listKeys, sameElement } from './list-keys.ts';
import {
  entryFor,
  readManagedFields,
  sameManager,
  writeManagedFields,
  type ManagedEntry,
  type ManagerIdentity,
} from './managed-fields.ts';

export interface ApplyRequest {
  /** The stored object, or the skeleton (apiVersion, kind, metadata) of the object apply creates. */
  readonly live: Readonly<JsonObject>;
  /** The applied configuration (already checked for apiVersion, kind and name). */
  readonly config: Readonly<JsonObject>;
  readonly manager: string;
  readonly force: boolean;
  readonly scope: FieldScope;
  readonly schema: CrdSchema | undefined;
  readonly apiVersion: string;
  readonly time: string;
}

interface Conflict {
  /** The manager as kube-apiserver prints it (printManager in k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go). */
  readonly manager: string;
  readonly path: string;
}

function printManager(entry: {
  manager: string;
  operation: string;
  subresource: string;
  apiVersion: string;
  time: string;
}): string {
  let text = JSON.stringify(entry.manager);
  if (entry.subresource !== '') text += ` with subresource ${JSON.stringify(entry.subresource)}`;
  if (entry.operation === 'Update')
    text += ` using ${entry.apiVersion}${entry.time === '' ? '' : ` at ${entry.time}`}`;
  return text;
}

/** Keeps the parts of the configuration a write in `scope` may set (metadata: labels and annotations). */
function scopedConfig(config: Readonly<JsonObject>, scope: FieldScope): JsonObject {
  const out: JsonObject = {};
  for (const [field, value] of Object.entries(config)) {
    if (field === 'apiVersion' || field === 'kind') continue;
    if (field === 'metadata') {
      if (scope !== 'status' && isJsonObject(value)) out.metadata = pickLabels(value);
      continue;
    }
    if (scope === 'status' ? field === 'status' : scope === 'all' || field !== 'status')
      out[field] = cloneJson(value);
  }
  return out;
}

function pickLabels(metadata: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const field of ['labels', 'annotations']) {
    const value = metadata[field];
    if (isJsonObject(value)) out[field] = cloneJson(value);
  }
  return out;
}

function findConflicts(
  live: Readonly<JsonObject>,
  config: JsonObject,
  applied: Set<string>,
  others: ManagedEntry[],
): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const path of applied) {
    if (isElementPath(path)) continue;
    const differs = !jsonEqual(valueAt(live, path), valueAt(config, path));
    if (!differs) continue;
    for (const entry of others) {
      if (entry.fields.has(path)) conflicts.push({ manager: printManager(entry), path });
    }
  }
  return conflicts;
}

function conflictError(conflicts: readonly Conflict[]): ApiError {
  const causes = conflicts.map(c => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${c.manager}`,
    field: describePath(c.path),
  }));
  const [only] = conflicts;
  if (conflicts.length === 1 && only !== undefined)
    return new ApiError(
      409,
      'Conflict',
      `Apply failed with 1 conflict: conflict with ${only.manager}: ${describePath(only.path)}`,
      { causes },
    );
  // Grouped by manager, managers sorted, as getConflictMessage does.
  const managers = [...new Set(conflicts.map(c => c.manager))].sort();
  const lines = managers.flatMap(m => [
    `conflicts with ${m}:`,
    ...conflicts.filter(c => c.manager === m).map(c => `- ${describePath(c.path)}`),
  ]);
  return new ApiError(
    409,
    'Conflict',
    `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`,
    { causes },
  );
}

function mergeList(live: JsonValue[], config: JsonValue[], schema: CrdSchema | undefined): JsonValue[] {
  const keys = listKeys(schema, live, config);
  if (keys === undefined) return cloneJson(config);
  const result = cloneJson(live);
  for (const item of config) {
    const index = result.findIndex(existing => sameElement(existing, item, keys));
    if (index >= 0) result[index] = mergeApplied(result[index], item, schema?.items);
    else result.push(cloneJson(item));
  }
  return result;
}

/** Merges the configuration into the object: maps field by field, keyed lists element by element. */
function mergeApplied(
  live: JsonValue | undefined,
  config: JsonValue,
  schema: CrdSchema | undefined,
): JsonValue {
  if (isJsonObject(config) && isJsonObject(live)) {
    const result = cloneJson(live);
    for (const [field, value] of Object.entries(config)) {
      result[field] = mergeApplied(result[field], value, propertySchema(schema, field));
    }
    return result;
  }
  if (Array.isArray(config) && Array.isArray(live)) return mergeList(live, config, schema);
  return cloneJson(config);
}

/** A key field of a keyed list element (`[id=r1].id`): it goes with its element, never on its own. */
function isElementKeyField(encoded: string): boolean {
  const path = decodePath(encoded);
  const last = path.at(-1);
  const parent = path.at(-2);
  return (
    typeof last === 'string' &&
    parent !== undefined &&
    typeof parent !== 'string' &&
    Object.hasOwn(parent.k, last)
  );
}

/** Removes what the manager applied before and omits now, unless another manager owns it (or part of it). */
function removeDropped(
  live: JsonObject,
  dropped: readonly string[],
  applied: Set<string>,
  others: readonly ManagedEntry[],
): void {
  for (const path of dropped) {
    if (isElementKeyField(path)) continue;
    const ownedElsewhere = others.some(entry => [...entry.fields].some(owned => coversPath(path, owned)));
    const stillApplied = [...applied].some(kept => coversPath(path, kept));
    if (!ownedElsewhere && !stillApplied) removePath(live, path);
  }
}

/** Applies a configuration; returns the new object (managedFields updated) or throws a 409 on conflicts. */
export function serverSideApply(request: ApplyRequest): JsonObject {
  const identity: ManagerIdentity = {
    manager: request.manager,
    operation: 'Apply',
    subresource: request.scope === 'status' ? 'status' : '',
  };
  const live = cloneJson(request.live as JsonObject);
  const entries = readManagedFields(live);
  const others = entries.filter(entry => !sameManager(entry, identity));
  const config = scopedConfig(request.config, request.scope);
  const applied = managedPaths(config, request.schema, request.scope);
  const conflicts = findConflicts(live, config, applied, others);
  if (conflicts.length > 0 && !request.force) throw conflictError(conflicts);
  for (const c of conflicts) for (const entry of others) entry.fields.delete(c.path);

  const mine = entryFor(entries, identity, request.apiVersion, request.time);
  removeDropped(
    live,
    [...mine.fields].filter(path => !applied.has(path)),
    applied,
    others,
  );
  const merged = mergeApplied(live, config, request.schema) as JsonObject;
  mine.fields = applied;
  mine.time = request.time;
  mine.apiVersion = request.apiVersion;
  writeManagedFields(merged, entries);
  return merged;
}
