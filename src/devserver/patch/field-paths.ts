// Field paths as server-side apply tracks them: field names and keyed list elements, with the set of leaf
// paths an object sets, lookups and removals by path, and the fieldsV1 encoding used in managedFields.
import { isJsonObject, jsonEqual, type JsonObject, type JsonValue, removeKey } from '../json.ts';
import { propertySchema, type CrdSchema } from '../schema/crd-schema.ts';
import { elementKey, listKeys } from './list-keys.ts';

/** A field name, or `{k: {...}}` selecting the element of a keyed list whose key fields equal k. */
export type PathElement = string | { readonly k: Readonly<Record<string, JsonValue>> };
export type FieldPath = readonly PathElement[];

/** Which part of an object a write may change: everything, all but status, or only status. */
export type FieldScope = 'all' | 'main' | 'status';

/** Canonical, prefix-friendly string form of a path (a JSON array). */
export function encodePath(path: FieldPath): string {
  return JSON.stringify(path);
}

export function decodePath(encoded: string): FieldPath {
  return JSON.parse(encoded) as FieldPath;
}

export function isElementPath(encoded: string): boolean {
  const last = decodePath(encoded).at(-1);
  return last !== undefined && typeof last !== 'string';
}

/** True when `other` is `path` or lies below it. */
export function coversPath(path: string, other: string): boolean {
  return other === path || other.startsWith(`${path.slice(0, -1)},`);
}

/** Human form used in conflict messages: `.spec.priority`, `.status.conditions[type="Ready"]`. */
export function describePath(encoded: string): string {
  return decodePath(encoded)
    .map(element =>
      typeof element === 'string'
        ? `.${element}`
        : `[${Object.entries(element.k)
            .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
            .join(',')}]`,
    )
    .join('');
}

function collect(
  value: JsonValue,
  schema: CrdSchema | undefined,
  path: PathElement[],
  out: Set<string>,
): void {
  if (isJsonObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) out.add(encodePath(path));
    for (const [name, child] of entries) collect(child, propertySchema(schema, name), [...path, name], out);
    return;
  }
  if (Array.isArray(value)) {
    const keys = listKeys(schema, value);
    if (keys === undefined || value.length === 0) {
      out.add(encodePath(path));
      return;
    }
    for (const item of value) {
      const elementPath = [...path, { k: elementKey(item, keys) }];
      out.add(encodePath(elementPath));
      if (!isJsonObject(item)) continue;
      for (const [name, child] of Object.entries(item)) {
        collect(child, propertySchema(schema?.items, name), [...elementPath, name], out);
      }
    }
    return;
  }
  out.add(encodePath(path));
}

function inScope(field: string, scope: FieldScope): boolean {
  if (field === 'apiVersion' || field === 'kind' || field === 'metadata') return false;
  if (scope === 'status') return field === 'status';
  return scope === 'all' || field !== 'status';
}

function collectMetadata(metadata: JsonObject, out: Set<string>): void {
  for (const field of ['labels', 'annotations']) {
    const value = metadata[field];
    if (!isJsonObject(value)) continue;
    for (const [key, v] of Object.entries(value)) collect(v, undefined, ['metadata', field, key], out);
  }
}

/** The leaf paths (and keyed-element paths) an object sets within a scope; metadata counts labels and annotations. */
export function managedPaths(
  object: Readonly<JsonObject>,
  schema: CrdSchema | undefined,
  scope: FieldScope,
): Set<string> {
  const out = new Set<string>();
  const metadata = object.metadata;
  if (scope !== 'status' && isJsonObject(metadata)) collectMetadata(metadata, out);
  for (const [field, value] of Object.entries(object)) {
    if (inScope(field, scope)) collect(value, propertySchema(schema, field), [field], out);
  }
  return out;
}

function findElement(list: readonly JsonValue[], key: Readonly<Record<string, JsonValue>>): number {
  return list.findIndex(item => jsonEqual(elementKey(item, Object.keys(key)), key));
}

function step(node: JsonValue | undefined, element: PathElement): JsonValue | undefined {
  if (typeof element === 'string') return isJsonObject(node) ? node[element] : undefined;
  if (!Array.isArray(node)) return undefined;
  return node[findElement(node, element.k)];
}

export function valueAt(object: Readonly<JsonObject>, encoded: string): JsonValue | undefined {
  let node: JsonValue | undefined = object;
  for (const element of decodePath(encoded)) node = step(node, element);
  return node;
}

function removeLast(container: JsonValue, last: PathElement): void {
  if (typeof last === 'string') {
    if (isJsonObject(container)) removeKey(container, last);
    return;
  }
  if (!Array.isArray(container)) return;
  const index = findElement(container, last.k);
  if (index >= 0) container.splice(index, 1);
}

/** Removes objects left empty along a path, bottom-up, keeping the top-level fields (spec, status). */
function pruneEmptyParents(path: FieldPath, parents: readonly JsonValue[], container: JsonValue): void {
  let node = container;
  for (let depth = path.length - 2; depth >= 1; depth--) {
    const parent = parents[depth];
    const element = path[depth];
    const empty = isJsonObject(node) && Object.keys(node).length === 0;
    if (!empty || !isJsonObject(parent) || typeof element !== 'string') return;
    removeKey(parent, element);
    node = parent;
  }
}

/** Removes the field or element at a path, then any object it leaves empty (below the top-level fields). */
export function removePath(object: JsonObject, encoded: string): void {
  const path = decodePath(encoded);
  const last = path.at(-1);
  const parents: JsonValue[] = [];
  let node: JsonValue | undefined = object;
  for (const element of path.slice(0, -1)) {
    if (node === undefined) return;
    parents.push(node);
    node = step(node, element);
  }
  if (last === undefined || node === undefined) return;
  removeLast(node, last);
  pruneEmptyParents(path, parents, node);
}

function fieldsV1Token(element: PathElement): string {
  return typeof element === 'string' ? `f:${element}` : `k:${JSON.stringify(element.k)}`;
}

/** Encodes a path set as managedFields' fieldsV1 tree. */
export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  for (const encoded of paths) {
    let node = root;
    for (const element of decodePath(encoded)) {
      const token = fieldsV1Token(element);
      const next = node[token];
      node = isJsonObject(next) ? next : (node[token] = {});
    }
    if (Object.keys(node).length > 0 || isElementPath(encoded)) node['.'] = {};
  }
  return root;
}

function parseToken(token: string): PathElement | undefined {
  if (token.startsWith('f:')) return token.slice(2);
  if (!token.startsWith('k:')) return undefined;
  const key: unknown = JSON.parse(token.slice(2));
  return isJsonObject(key) ? { k: key } : undefined;
}

function walkFieldsV1(node: JsonObject, path: PathElement[], out: Set<string>): void {
  for (const [token, child] of Object.entries(node)) {
    if (token === '.') {
      out.add(encodePath(path));
      continue;
    }
    const element = parseToken(token);
    if (element === undefined || !isJsonObject(child)) continue;
    const childPath = [...path, element];
    if (Object.keys(child).length === 0) out.add(encodePath(childPath));
    else walkFieldsV1(child, childPath, out);
  }
}

/** Decodes a fieldsV1 tree into paths (tokens other than f: and k: are not produced by this server). */
export function fromFieldsV1(fields: JsonObject): Set<string> {
  const out = new Set<string>();
  walkFieldsV1(fields, [], out);
  return out;
}
