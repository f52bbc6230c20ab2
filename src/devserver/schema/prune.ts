// Pruning and defaulting of custom resources, as a real API server does before validation: fields the
// schema does not declare are dropped (reported, not an error), nulls of non-nullable fields are dropped,
// then `default`s fill absent properties of objects that exist.
import { cloneJson, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { CrdSchema } from './crd-schema.ts';
import { fieldChild, fieldIndex } from './field-path-text.ts';

/** Fields of the root object that are never pruned: metadata is validated separately, like ObjectMeta. */
const rootKept = new Set(['apiVersion', 'kind', 'metadata']);

function childSchemaOf(schema: CrdSchema, name: string): CrdSchema | 'keep' | undefined {
  const declared = schema.properties?.[name];
  if (declared !== undefined) return declared;
  if (typeof schema.additionalProperties === 'object') return schema.additionalProperties;
  if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields'] === true)
    return 'keep';
  return undefined;
}

function pruneObject(schema: CrdSchema, value: JsonObject, path: string, pruned: string[]): JsonObject {
  const out: JsonObject = {};
  for (const [name, child] of Object.entries(value)) {
    const childPath = fieldChild(path, name);
    const childSchema = path === '' && rootKept.has(name) ? 'keep' : childSchemaOf(schema, name);
    if (childSchema === undefined) pruned.push(childPath);
    else if (childSchema === 'keep') out[name] = child;
    else if (child !== null || childSchema.nullable === true)
      out[name] = pruneValue(childSchema, child, childPath, pruned);
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (out[name] === undefined && property.default !== undefined) out[name] = cloneJson(property.default);
  }
  return out;
}

function pruneValue(schema: CrdSchema, value: JsonValue, path: string, pruned: string[]): JsonValue {
  if (isJsonObject(value)) return pruneObject(schema, value, path, pruned);
  if (Array.isArray(value) && schema.items !== undefined) {
    const items = schema.items;
    return value.map((item, index) => pruneValue(items, item, fieldIndex(path, index), pruned));
  }
  return value;
}

export interface PruneResult {
  readonly object: JsonObject;
  /** Paths of the dropped unknown fields (`spec.foo`), for warnings or fieldValidation=Strict. */
  readonly pruned: readonly string[];
}

export function pruneAndDefault(schema: CrdSchema, object: JsonObject): PruneResult {
  const pruned: string[] = [];
  return { object: pruneObject(schema, object, '', pruned), pruned };
}
