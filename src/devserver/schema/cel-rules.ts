// x-kubernetes-validations: CEL rules compiled once per CRD and evaluated with @bufbuild/cel. `self` is the
// node's value (objects and maps as CEL maps, schema integers as int (BigInt), numbers as double);
// `oldSelf` (transition rules) is the previous value, correlated through object fields and keyed lists.
import { celEnv, isCelError, parse, plan, type CelInput, type CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { StatusCause } from '../api-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { kubernetesListFunctions } from './cel-lists.ts';
import { listMapKeys, propertySchema, type CrdSchema, type ValidationRule } from './crd-schema.ts';
import { appendRuleFieldPath, fieldChild, fieldIndex, fieldKey } from './field-path-text.ts';

export type Program = (bindings: Record<string, CelInput>) => CelResult;

const environment = celEnv({ funcs: [...strings, ...kubernetesListFunctions] });
const programs = new Map<string, Program>();

/** Parses and plans a CEL expression once (cached by its text); throws when it does not compile. */
export function compile(expression: string): Program {
  let program = programs.get(expression);
  if (program === undefined) {
    const planned = plan(environment, parse(expression));
    program = (bindings): CelResult => planned(bindings);
    programs.set(expression, program);
  }
  return program;
}

function rulesBelow(schema: CrdSchema): CrdSchema[] {
  const children = [
    ...Object.values(schema.properties ?? {}),
    ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
    ...(schema.items !== undefined ? [schema.items] : []),
  ];
  return [schema, ...children.flatMap(rulesBelow)];
}

function compileRule(rule: ValidationRule, source: string): void {
  for (const expression of [rule.rule, rule.messageExpression]) {
    if (expression === undefined) continue;
    try {
      compile(expression);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(`${source}: cannot compile CEL expression ${JSON.stringify(expression)}: ${why}`, {
        cause: error,
      });
    }
  }
}

/** Parses every rule and messageExpression of a schema up front, so a broken CRD fails at start-up. */
export function compileRules(schema: CrdSchema, source: string): void {
  for (const node of rulesBelow(schema)) {
    for (const rule of node['x-kubernetes-validations'] ?? []) compileRule(rule, source);
  }
}

/** Converts a JSON value to CEL input, typed by its schema. */
export function toCelInput(value: JsonValue, schema: CrdSchema | undefined): CelInput {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    const integer =
      schema?.type === 'integer' ||
      (schema?.['x-kubernetes-int-or-string'] === true && Number.isInteger(value));
    return integer ? BigInt(value) : value;
  }
  if (Array.isArray(value)) return value.map(item => toCelInput(item, schema?.items));
  return new Map(
    Object.entries(value).map(([key, child]) => [key, toCelInput(child, propertySchema(schema, key))]),
  );
}

const usesOldSelf = /\boldSelf\b/;

function failureMessage(rule: ValidationRule, bindings: Record<string, CelInput>): string {
  if (rule.messageExpression !== undefined) {
    const result = compile(rule.messageExpression)(bindings);
    if (typeof result === 'string' && result.trim() !== '') return result;
  }
  return rule.message ?? `failed rule: ${rule.rule}`;
}

/** How field.Invalid prints a bad value: Go's %#v-like text for scalars (strings quoted). */
function shownScalar(value: JsonValue | undefined): string {
  return JSON.stringify(value ?? null);
}

// k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go: the rule's value is omitted for objects
// and arrays (field.OmitValueType), so the detail reads `Invalid value: <message>`; scalars show the value.
function causeFor(rule: ValidationRule, node: Node, text: string): StatusCause {
  const { schema, path, value } = node;
  const field = rule.fieldPath === undefined ? path : appendRuleFieldPath(path, rule.fieldPath);
  const reason = rule.reason ?? 'FieldValueInvalid';
  const prefixes: Record<string, string> = {
    FieldValueForbidden: 'Forbidden',
    FieldValueRequired: 'Required value',
    FieldValueDuplicate: 'Duplicate value',
  };
  const structured = schema.type === 'object' || schema.type === 'array' || schema.type === undefined;
  const prefix = prefixes[reason] ?? (structured ? 'Invalid value' : `Invalid value: ${shownScalar(value)}`);
  return { reason, message: `${prefix}: ${text}`, field };
}

interface Node {
  readonly schema: CrdSchema;
  readonly value: JsonValue | undefined;
  readonly old: JsonValue | undefined;
  readonly path: string;
}

function evaluateRule(rule: ValidationRule, node: Node, value: JsonValue): StatusCause | undefined {
  const transition = usesOldSelf.test(rule.rule);
  if (transition && node.old === undefined && rule.optionalOldSelf !== true) return undefined;
  const bindings: Record<string, CelInput> = { self: toCelInput(value, node.schema) };
  if (transition && node.old !== undefined) bindings.oldSelf = toCelInput(node.old, node.schema);
  const result = compile(rule.rule)(bindings);
  if (isCelError(result))
    return causeFor(rule, node, `rule evaluation error: ${rule.rule}: ${result.message}`);
  if (typeof result !== 'boolean')
    return causeFor(rule, node, `rule did not evaluate to a bool: ${rule.rule}`);
  return result ? undefined : causeFor(rule, node, failureMessage(rule, bindings));
}

function oldElement(
  old: JsonValue | undefined,
  item: JsonValue,
  keys: readonly string[] | undefined,
): JsonValue | undefined {
  if (keys === undefined || !Array.isArray(old) || !isJsonObject(item)) return undefined;
  return old.find(
    candidate =>
      isJsonObject(candidate) &&
      keys.every(key => JSON.stringify(candidate[key]) === JSON.stringify(item[key])),
  );
}

function children(node: Node, value: JsonValue): Node[] {
  const { schema, old, path } = node;
  if (Array.isArray(value) && schema.items !== undefined) {
    const items = schema.items;
    const keys = listMapKeys(schema);
    return value.map((item, index) => ({
      schema: items,
      value: item,
      old: oldElement(old, item, keys),
      path: fieldIndex(path, index),
    }));
  }
  if (!isJsonObject(value)) return [];
  const oldObject = isJsonObject(old) ? old : undefined;
  return Object.entries(value).flatMap(([name, child]): Node[] => {
    const declared = schema.properties?.[name];
    const childSchema =
      declared ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (childSchema === undefined) return [];
    const childPath = declared !== undefined ? fieldChild(path, name) : fieldKey(path, name);
    return [{ schema: childSchema, value: child, old: oldObject?.[name], path: childPath }];
  });
}

function evaluateNode(node: Node, causes: StatusCause[]): void {
  const value = node.value;
  if (value === undefined || value === null) return;
  for (const rule of node.schema['x-kubernetes-validations'] ?? []) {
    const cause = evaluateRule(rule, node, value);
    if (cause !== undefined) causes.push(cause);
  }
  for (const child of children(node, value)) evaluateNode(child, causes);
}

/** Root rules see metadata as a real server exposes it to CEL: name and generateName only. */
function celView(object: Readonly<JsonObject> | undefined): JsonObject | undefined {
  if (object === undefined) return undefined;
  const view: JsonObject = { ...object };
  const metadata = object.metadata;
  if (isJsonObject(metadata)) {
    view.metadata = Object.fromEntries(
      Object.entries(metadata).filter(([key]) => key === 'name' || key === 'generateName'),
    );
  }
  return view;
}

/** Evaluates every rule whose node is present; a rule on an absent subtree is skipped. */
export function evaluateRules(
  schema: CrdSchema,
  object: JsonObject,
  old: Readonly<JsonObject> | undefined,
): StatusCause[] {
  const causes: StatusCause[] = [];
  evaluateNode({ schema, value: celView(object), old: celView(old), path: '' }, causes);
  return causes;
}
