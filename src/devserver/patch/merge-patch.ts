// JSON Merge Patch (RFC 7386): objects merge recursively, null deletes, anything else replaces.
import { cloneJson, isJsonObject, type JsonValue, removeKey } from '../json.ts';

export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch);
  const result = isJsonObject(target) ? cloneJson(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) removeKey(result, key);
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
