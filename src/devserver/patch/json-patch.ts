// JSON Patch (RFC 6902) with JSON Pointer (RFC 6901): add, remove, replace, move, copy, test.
import { ApiError, badRequest } from '../api-error.ts';
import { cloneJson, isJsonObject, jsonEqual, type JsonObject, type JsonValue, removeKey } from '../json.ts';

export interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly from?: string;
  readonly value?: JsonValue;
}

const ops = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function operationShapeError(entry: JsonObject, op: JsonPatchOperation['op']): string | undefined {
  if (typeof entry.path !== 'string') return '"path" must be a string';
  if ((op === 'move' || op === 'copy') && typeof entry.from !== 'string')
    return `(${op}): "from" must be a string`;
  if ((op === 'add' || op === 'replace' || op === 'test') && !Object.hasOwn(entry, 'value')) {
    return `(${op}): "value" is required`;
  }
  return undefined;
}

function parseOperation(entry: JsonValue, index: number): JsonPatchOperation {
  if (!isJsonObject(entry) || typeof entry.op !== 'string' || !ops.has(entry.op)) {
    throw badRequest(`json patch operation ${index}: "op" must be one of ${[...ops].join(', ')}`);
  }
  const op = entry.op as JsonPatchOperation['op'];
  const problem = operationShapeError(entry, op);
  if (problem !== undefined) throw badRequest(`json patch operation ${index} ${problem}`);
  const { from, value } = entry;
  return {
    op,
    path: entry.path as string,
    ...(typeof from === 'string' ? { from } : {}),
    ...(value !== undefined ? { value } : {}),
  };
}

/** Checks the patch document's shape: a malformed document is a 400, as on a real server. */
export function parseJsonPatch(document: JsonValue): JsonPatchOperation[] {
  if (!Array.isArray(document)) throw badRequest('json patch must be an array of operations');
  return document.map(parseOperation);
}

function patchFailed(message: string): ApiError {
  return new ApiError(
    422,
    'Invalid',
    `the server rejected our request due to an error in our request: ${message}`,
  );
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchFailed(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map(token => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

type Container = JsonObject | JsonValue[];

function arrayIndex(token: string, length: number, allowEnd: boolean, pointer: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw patchFailed(`"${token}" is not an array index in "${pointer}"`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length))
    throw patchFailed(`index ${index} out of range in "${pointer}"`);
  return index;
}

function child(container: Container, token: string, pointer: string): JsonValue {
  const value = Array.isArray(container)
    ? container[arrayIndex(token, container.length, false, pointer)]
    : Object.hasOwn(container, token)
      ? container[token]
      : undefined;
  if (value === undefined) throw patchFailed(`path "${pointer}" does not exist`);
  return value;
}

/** The parent container of a pointer's last token. */
function resolveParent(doc: JsonValue, pointer: string): { parent: Container; token: string } {
  const tokens = parsePointer(pointer);
  const token = tokens.pop();
  if (token === undefined) throw patchFailed('the root cannot be the target of this operation');
  let node: JsonValue = doc;
  for (const step of tokens) {
    if (typeof node !== 'object' || node === null) throw patchFailed(`path "${pointer}" does not exist`);
    node = child(node, step, pointer);
  }
  if (typeof node !== 'object' || node === null) throw patchFailed(`path "${pointer}" does not exist`);
  return { parent: node, token };
}

function getAt(doc: JsonValue, pointer: string): JsonValue {
  if (pointer === '') return doc;
  const { parent, token } = resolveParent(doc, pointer);
  return child(parent, token, pointer);
}

function addAt(doc: JsonValue, pointer: string, value: JsonValue): JsonValue {
  if (pointer === '') return value;
  const { parent, token } = resolveParent(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(token, parent.length, true, pointer), 0, value);
  else parent[token] = value;
  return doc;
}

function removeAt(doc: JsonValue, pointer: string): JsonValue {
  const { parent, token } = resolveParent(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(token, parent.length, false, pointer), 1);
  else if (Object.hasOwn(parent, token)) removeKey(parent, token);
  else throw patchFailed(`path "${pointer}" does not exist`);
  return doc;
}

function moveValue(doc: JsonValue, from: string, path: string): JsonValue {
  if (path.startsWith(`${from}/`)) throw patchFailed(`cannot move "${from}" into its own child "${path}"`);
  const moved = getAt(doc, from);
  return addAt(removeAt(doc, from), path, moved);
}

function replaceValue(doc: JsonValue, path: string, value: JsonValue): JsonValue {
  getAt(doc, path);
  return path === '' ? cloneJson(value) : addAt(removeAt(doc, path), path, cloneJson(value));
}

function testValue(doc: JsonValue, path: string, value: JsonValue): JsonValue {
  if (!jsonEqual(getAt(doc, path), value)) throw patchFailed(`test failed: value at "${path}" differs`);
  return doc;
}

function applyOperation(doc: JsonValue, op: JsonPatchOperation): JsonValue {
  const value = op.value ?? null;
  switch (op.op) {
    case 'add':
      return addAt(doc, op.path, cloneJson(value));
    case 'remove':
      return removeAt(doc, op.path);
    case 'replace':
      return replaceValue(doc, op.path, value);
    case 'test':
      return testValue(doc, op.path, value);
    case 'copy':
      return addAt(doc, op.path, cloneJson(getAt(doc, op.from ?? '')));
    case 'move':
      return moveValue(doc, op.from ?? '', op.path);
  }
}

/** Applies the operations in order to a copy of `target`; any failure rejects the whole patch (422). */
export function applyJsonPatch(target: JsonValue, operations: readonly JsonPatchOperation[]): JsonValue {
  return operations.reduce<JsonValue>((doc, op) => applyOperation(doc, op), cloneJson(target));
}
