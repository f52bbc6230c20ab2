// OpenAPI v3 structural-schema validation of a (pruned) custom resource, with causes worded like a real
// API server's: type, required, enum, bounds (incl. exclusive), string lengths, pattern, item and property
// counts, nullable, maps (additionalProperties) and unique keys of `x-kubernetes-list-type: map` lists.
import type { StatusCause } from '../api-error.ts';
import { describeJsonType, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { listMapKeys, type CrdSchema } from './crd-schema.ts';
import { fieldChild, fieldIndex, fieldKey } from './field-path-text.ts';

type Causes = StatusCause[];

const patterns = new Map<string, RegExp>();

function compiledPattern(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(pattern);
    patterns.set(pattern, regex);
  }
  return regex;
}

/** How "Invalid value: X" shows a value. */
export function shownValue(value: JsonValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(describeJsonType(value));
}

function invalid(path: string, value: JsonValue, why: string): StatusCause {
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${shownValue(value)}: ${path} in body ${why}`,
    field: path,
  };
}

function typeMatches(schema: CrdSchema, value: JsonValue): boolean {
  if (schema['x-kubernetes-int-or-string'] === true)
    return typeof value === 'string' || Number.isInteger(value);
  switch (schema.type) {
    case undefined:
      return true;
    case 'object':
      return isJsonObject(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return typeof value === schema.type;
  }
}

function checkNumber(schema: CrdSchema, value: number, path: string, causes: Causes): void {
  const { minimum, maximum } = schema;
  if (minimum !== undefined) {
    const exclusive = schema.exclusiveMinimum === true;
    if (exclusive ? value <= minimum : value < minimum) {
      causes.push(
        invalid(path, value, `should be greater than ${exclusive ? '' : 'or equal to '}${minimum}`),
      );
    }
  }
  if (maximum !== undefined) {
    const exclusive = schema.exclusiveMaximum === true;
    if (exclusive ? value >= maximum : value > maximum) {
      causes.push(invalid(path, value, `should be less than ${exclusive ? '' : 'or equal to '}${maximum}`));
    }
  }
}

function checkString(schema: CrdSchema, value: string, path: string, causes: Causes): void {
  // Kubernetes counts runes (code points), not UTF-16 units.
  const length = value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length;
  if (schema.minLength !== undefined && length < schema.minLength) {
    causes.push(invalid(path, value, `should be at least ${schema.minLength} chars long`));
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    causes.push({
      reason: 'FieldValueTooLong',
      message: `Too long: may not be more than ${schema.maxLength} bytes`,
      field: path,
    });
  }
  if (schema.pattern !== undefined && !compiledPattern(schema.pattern).test(value)) {
    causes.push(invalid(path, value, `should match '${schema.pattern}'`));
  }
}

function checkUniqueKeys(
  keys: readonly string[],
  value: readonly JsonValue[],
  path: string,
  causes: Causes,
): void {
  const seen = new Set<string>();
  value.forEach((item, index) => {
    if (!isJsonObject(item)) return;
    const key = JSON.stringify(Object.fromEntries(keys.map(k => [k, item[k] ?? null])));
    if (seen.has(key))
      causes.push({
        reason: 'FieldValueDuplicate',
        message: `Duplicate value: ${key}`,
        field: fieldIndex(path, index),
      });
    seen.add(key);
  });
}

function checkArray(schema: CrdSchema, value: readonly JsonValue[], path: string, causes: Causes): void {
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    causes.push(invalid(path, value.length, `should have at least ${schema.minItems} items`));
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    causes.push({
      reason: 'FieldValueTooMany',
      message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
      field: path,
    });
  }
  const keys = listMapKeys(schema);
  if (keys !== undefined) checkUniqueKeys(keys, value, path, causes);
  const items = schema.items;
  if (items !== undefined)
    value.forEach((item, index) => {
      validateNode(items, item, fieldIndex(path, index), causes);
    });
}

function checkObject(schema: CrdSchema, value: JsonObject, path: string, causes: Causes): void {
  for (const name of schema.required ?? []) {
    if (value[name] === undefined)
      causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: fieldChild(path, name) });
  }
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties) {
    causes.push(invalid(path, count, `should have at least ${schema.minProperties} properties`));
  }
  if (schema.maxProperties !== undefined && count > schema.maxProperties) {
    causes.push({
      reason: 'FieldValueTooMany',
      message: `Too many: ${count}: must have at most ${schema.maxProperties} items`,
      field: path,
    });
  }
  for (const [name, child] of Object.entries(value)) {
    const declared = schema.properties?.[name];
    if (declared !== undefined) validateNode(declared, child, fieldChild(path, name), causes);
    else if (typeof schema.additionalProperties === 'object') {
      validateNode(schema.additionalProperties, child, fieldKey(path, name), causes);
    }
  }
}

function typeCause(schema: CrdSchema, value: JsonValue, path: string): StatusCause {
  const expected =
    schema['x-kubernetes-int-or-string'] === true ? 'integer or string' : (schema.type ?? 'any');
  const actual = JSON.stringify(describeJsonType(value));
  return {
    reason: 'FieldValueTypeInvalid',
    message: `Invalid value: ${actual}: ${path} in body must be of type ${expected}: ${actual}`,
    field: path,
  };
}

function checkEnum(schema: CrdSchema, value: JsonValue, path: string, causes: Causes): void {
  if (
    schema.enum === undefined ||
    schema.enum.some(allowed => JSON.stringify(allowed) === JSON.stringify(value))
  )
    return;
  const supported = schema.enum.map(v => JSON.stringify(v)).join(', ');
  causes.push({
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${shownValue(value)}: supported values: ${supported}`,
    field: path,
  });
}

function validateNode(schema: CrdSchema, value: JsonValue, path: string, causes: Causes): void {
  if (value === null) {
    if (schema.nullable !== true)
      causes.push(invalid(path, value, `must be of type ${schema.type ?? 'object'}: "null"`));
    return;
  }
  if (!typeMatches(schema, value)) {
    causes.push(typeCause(schema, value, path));
    return;
  }
  checkEnum(schema, value, path, causes);
  if (typeof value === 'number') checkNumber(schema, value, path, causes);
  else if (typeof value === 'string') checkString(schema, value, path, causes);
  else if (Array.isArray(value)) checkArray(schema, value, path, causes);
  else if (isJsonObject(value)) checkObject(schema, value, path, causes);
}

/** Validates a whole custom resource; metadata is left to the ObjectMeta checks. */
export function validateAgainstSchema(schema: CrdSchema, object: JsonObject): StatusCause[] {
  const causes: Causes = [];
  const withoutMetadata: JsonObject = { ...object };
  delete withoutMetadata.metadata;
  validateNode(schema, withoutMetadata, '', causes);
  return causes;
}
