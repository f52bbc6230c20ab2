// Strategic merge patch, the subset the dev server supports (built-in types only; a real API server rejects
// it for custom resources): merge-patch semantics, plus lists of objects that all carry `name` merge by
// name, list items with `$patch: delete` are removed, and `$patch: replace` replaces an object whole.
// Other directives ($setElementOrder, $retainKeys, $deleteFromPrimitiveList) are ignored.
import { cloneJson, isJsonObject, type JsonObject, type JsonValue, removeKey } from '../json.ts';
import { listKeys, sameElement } from './list-keys.ts';

function withoutDirectives(patch: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(patch).filter(([key]) => !key.startsWith('$')));
}

function mergeKeyedList(
  target: readonly JsonValue[],
  patch: readonly JsonValue[],
  keys: readonly string[],
): JsonValue[] {
  const result = cloneJson([...target]);
  for (const item of patch) {
    const index = result.findIndex(existing => sameElement(existing, item, keys));
    if (isJsonObject(item) && item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = applyStrategicMergePatch(result[index], item);
    } else {
      result.push(applyStrategicMergePatch(undefined, item));
    }
  }
  return result;
}

function mergeValue(current: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (Array.isArray(patch) && Array.isArray(current)) {
    const keys = listKeys(undefined, current, patch);
    if (keys !== undefined) return mergeKeyedList(current, patch, keys);
  }
  return applyStrategicMergePatch(current, patch);
}

export function applyStrategicMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) {
    return Array.isArray(patch)
      ? patch.map(item => (isJsonObject(item) ? withoutDirectives(item) : item))
      : patch;
  }
  if (patch.$patch === 'replace') return cloneJson(withoutDirectives(patch));
  const result = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(withoutDirectives(patch))) {
    if (value === null || (isJsonObject(value) && value.$patch === 'delete')) removeKey(result, key);
    else result[key] = mergeValue(result[key], value);
  }
  return result;
}
