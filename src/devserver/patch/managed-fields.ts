// metadata.managedFields bookkeeping: which manager set which fields, by operation (Apply/Update) and
// subresource. Updates (create, PUT, non-apply patches) take the fields they changed from other managers.
import { isJsonObject, jsonEqual, type JsonObject } from '../json.ts';
import type { CrdSchema } from '../schema/crd-schema.ts';
import {
  decodePath,
  encodePath,
  fromFieldsV1,
  isElementPath,
  managedPaths,
  toFieldsV1,
  valueAt,
  type FieldScope,
} from './field-paths.ts';

export interface ManagedEntry {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly subresource: string;
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

export interface ManagerIdentity {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly subresource: string;
}

export function sameManager(entry: ManagerIdentity, other: ManagerIdentity): boolean {
  return (
    entry.manager === other.manager &&
    entry.operation === other.operation &&
    entry.subresource === other.subresource
  );
}

export function readManagedFields(object: Readonly<JsonObject> | undefined): ManagedEntry[] {
  const metadata = object?.metadata;
  const list = isJsonObject(metadata) ? metadata.managedFields : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter(isJsonObject).map(entry => ({
    manager: typeof entry.manager === 'string' ? entry.manager : '',
    operation: entry.operation === 'Apply' ? 'Apply' : 'Update',
    subresource: typeof entry.subresource === 'string' ? entry.subresource : '',
    apiVersion: typeof entry.apiVersion === 'string' ? entry.apiVersion : '',
    time: typeof entry.time === 'string' ? entry.time : '',
    fields: isJsonObject(entry.fieldsV1) ? fromFieldsV1(entry.fieldsV1) : new Set<string>(),
  }));
}

/** Writes entries back, dropping paths the object no longer has and entries left with no fields. */
export function writeManagedFields(object: JsonObject, entries: readonly ManagedEntry[]): void {
  const metadata = object.metadata;
  if (!isJsonObject(metadata)) return;
  // kube-apiserver's order (sortEncodedManagedFields): operation, time, manager, apiVersion, subresource.
  const keys = ['operation', 'time', 'manager', 'apiVersion', 'subresource'] as const;
  const order = (a: ManagedEntry, b: ManagedEntry): number => {
    const key = keys.find(k => a[k] !== b[k]);
    return key === undefined ? 0 : a[key] < b[key] ? -1 : 1;
  };
  const rendered = [...entries]
    .sort(order)
    .map(entry => ({
      entry,
      fields: [...entry.fields].filter(path => valueAt(object, path) !== undefined).sort(),
    }))
    .filter(({ fields }) => fields.length > 0)
    .map(({ entry, fields }): JsonObject => {
      const out: JsonObject = {
        manager: entry.manager,
        operation: entry.operation,
        apiVersion: entry.apiVersion,
        time: entry.time,
        fieldsType: 'FieldsV1',
        fieldsV1: toFieldsV1(fields),
      };
      if (entry.subresource !== '') out.subresource = entry.subresource;
      return out;
    });
  if (rendered.length > 0) metadata.managedFields = rendered;
  else delete metadata.managedFields;
}

export function entryFor(
  entries: ManagedEntry[],
  identity: ManagerIdentity,
  apiVersion: string,
  time: string,
): ManagedEntry {
  const existing = entries.find(entry => sameManager(entry, identity));
  if (existing !== undefined) return existing;
  const created: ManagedEntry = { ...identity, apiVersion, time, fields: new Set() };
  entries.push(created);
  return created;
}

export interface UpdateRecord {
  readonly before: Readonly<JsonObject> | undefined;
  readonly after: JsonObject;
  readonly manager: string;
  readonly scope: FieldScope;
  readonly schema: CrdSchema | undefined;
  readonly apiVersion: string;
  readonly time: string;
}

function changedPaths(record: UpdateRecord): { changed: Set<string>; removed: Set<string> } {
  const { before, after, schema, scope } = record;
  const afterPaths = managedPaths(after, schema, scope);
  const beforePaths = before === undefined ? new Set<string>() : managedPaths(before, schema, scope);
  const changed = new Set(
    [...afterPaths].filter(
      path =>
        !beforePaths.has(path) ||
        (!isElementPath(path) &&
          before !== undefined &&
          !jsonEqual(valueAt(before, path), valueAt(after, path))),
    ),
  );
  // A leaf that became a container (an empty map that got fields) is still there: its owner keeps it.
  const removed = new Set(
    [...beforePaths].filter(path => !afterPaths.has(path) && valueAt(after, path) === undefined),
  );
  // An Update also owns the containers it brought into being (kube-apiserver's FieldsV1 shows them as "."),
  // except metadata itself, which is never tracked.
  for (const path of [...changed]) {
    const elements = decodePath(path);
    for (let length = 1; length < elements.length; length++) {
      const parent = encodePath(elements.slice(0, length));
      if (length === 1 && elements[0] === 'metadata') continue;
      if (before === undefined || valueAt(before, parent) === undefined) changed.add(parent);
    }
  }
  return { changed, removed };
}

/** Records a non-apply write: the writer owns what it changed; nobody keeps what it removed. */
export function recordUpdate(record: UpdateRecord): void {
  const entries = readManagedFields(record.before);
  const { changed, removed } = changedPaths(record);
  const identity: ManagerIdentity = {
    manager: record.manager,
    operation: 'Update',
    subresource: record.scope === 'status' ? 'status' : '',
  };
  for (const entry of entries) {
    for (const path of [...changed, ...removed]) entry.fields.delete(path);
  }
  if (changed.size > 0) {
    const mine = entryFor(entries, identity, record.apiVersion, record.time);
    for (const path of changed) mine.fields.add(path);
    mine.time = record.time;
    mine.apiVersion = record.apiVersion;
  }
  writeManagedFields(record.after, entries);
}
