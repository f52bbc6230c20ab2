// How a list merges (strategic merge patch, server-side apply): by key fields, or atomically.
import { isJsonObject, type JsonValue } from '../json.ts';
import { listMapKeys, type CrdSchema } from '../schema/crd-schema.ts';

function allKeyed(list: readonly JsonValue[], keys: readonly string[]): boolean {
  return list.every(
    item => isJsonObject(item) && keys.every(key => item[key] !== undefined && item[key] !== null),
  );
}

/**
 * Keys identifying list elements, or undefined when the list is atomic (replaced whole).
 * With a schema: `x-kubernetes-list-type: map` and its map keys. Without one (built-in types, which the
 * dev server has no schemas for): lists of objects that all carry `name`, the merge key of most core lists.
 */
export function listKeys(
  schema: CrdSchema | undefined,
  ...lists: readonly JsonValue[][]
): readonly string[] | undefined {
  const withItems = lists.filter(list => list.length > 0);
  if (schema === undefined) {
    if (withItems.length === 0) return undefined;
    // Built-in lists merge by `name` (containers, volumes, ports) or, for conditions, by `type` (a node's
    // conditions patched by another writer must leave kubelet's Ready in place, as a real server does).
    return [['name'], ['type']].find(keys => withItems.every(list => allKeyed(list, keys)));
  }
  const keys = listMapKeys(schema);
  if (keys === undefined) return undefined;
  return withItems.every(list => allKeyed(list, keys)) ? keys : undefined;
}

/** The identity of a keyed element: its key fields, in key order. */
export function elementKey(item: JsonValue, keys: readonly string[]): Record<string, JsonValue> {
  const key: Record<string, JsonValue> = {};
  if (!isJsonObject(item)) return key;
  for (const field of keys) key[field] = item[field] ?? null;
  return key;
}

export function sameElement(a: JsonValue, b: JsonValue, keys: readonly string[]): boolean {
  return JSON.stringify(elementKey(a, keys)) === JSON.stringify(elementKey(b, keys));
}
