// Shapes stored objects for responses: the apiVersion of the endpoint served (multi-version CRDs share one
// store) and list items without apiVersion/kind for built-in types, as a real API server sends them.
import type { JsonObject } from '../json.ts';
import { apiVersionOf, type ResourceType } from '../resource-types.ts';

export function presentObject(type: ResourceType, object: Readonly<JsonObject>): JsonObject {
  return { ...object, apiVersion: apiVersionOf(type), kind: type.kind };
}

export function presentListItem(type: ResourceType, object: Readonly<JsonObject>): JsonObject {
  if (type.listItemsCarryTypeMeta) return presentObject(type, object);
  const item: JsonObject = { ...object };
  delete item.apiVersion;
  delete item.kind;
  return item;
}
