// labelSelector and fieldSelector query parameters: parsing (400 on bad syntax) and matching.
import { badRequest } from './api-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from './json.ts';

export type LabelRequirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | 'notexists' };

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** Splits on commas that are not inside parentheses (`a in (x,y),b`). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map(p => p.trim()).filter(p => p !== '');
}

const labelKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const setForm = /^(\S+)\s+(in|notin)\s*\((.*)\)$/;
const equalityForm = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/;

function checkKey(key: string, selector: string): string {
  if (!labelKey.test(key))
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (value.length > 63 || !labelValue.test(value)) {
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${selector}"`);
  }
  return value;
}

function parseLabelRequirement(part: string, selector: string): LabelRequirement {
  const set = setForm.exec(part);
  if (set) {
    const values = (set[3] ?? '').split(',').map(v => checkValue(v.trim(), selector));
    return { key: checkKey(set[1] ?? '', selector), op: set[2] === 'in' ? 'in' : 'notin', values };
  }
  const equality = equalityForm.exec(part);
  if (equality) {
    const values = [checkValue(equality[3] ?? '', selector)];
    return { key: checkKey(equality[1] ?? '', selector), op: equality[2] === '!=' ? 'notin' : 'in', values };
  }
  if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim(), selector), op: 'notexists' };
  return { key: checkKey(part, selector), op: 'exists' };
}

export function parseLabelSelector(selector: string | null): LabelRequirement[] {
  if (selector === null) return [];
  return splitTopLevel(selector).map(part => parseLabelRequirement(part, selector));
}

function requirementHolds(req: LabelRequirement, labels: Readonly<Record<string, JsonValue>>): boolean {
  const raw = labels[req.key];
  const value = typeof raw === 'string' ? raw : undefined;
  switch (req.op) {
    case 'exists':
      return value !== undefined;
    case 'notexists':
      return value === undefined;
    case 'in':
      return value !== undefined && req.values.includes(value);
    case 'notin':
      return value === undefined || !req.values.includes(value);
  }
}

export function labelsMatch(
  requirements: readonly LabelRequirement[],
  object: Readonly<JsonObject>,
): boolean {
  if (requirements.length === 0) return true;
  const metadata = object.metadata;
  const labels = isJsonObject(metadata) && isJsonObject(metadata.labels) ? metadata.labels : {};
  return requirements.every(req => requirementHolds(req, labels));
}

const fieldForm = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/;

/** Parses a fieldSelector; only the given field labels are supported, as on a real server. */
export function parseFieldSelector(
  selector: string | null,
  supported: readonly string[],
): FieldRequirement[] {
  if (selector === null) return [];
  return splitTopLevel(selector).map(part => {
    const match = fieldForm.exec(part);
    if (!match) throw badRequest(`invalid field selector: "${part}"`);
    const field = match[1] ?? '';
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, op: match[2] === '!=' ? '!=' : '=', value: match[3] ?? '' };
  });
}

function fieldValue(object: Readonly<JsonObject>, path: string): string {
  let node: JsonValue | undefined = object;
  for (const segment of path.split('.')) node = isJsonObject(node) ? node[segment] : undefined;
  return typeof node === 'string' ? node : '';
}

export function fieldsMatch(
  requirements: readonly FieldRequirement[],
  object: Readonly<JsonObject>,
): boolean {
  return requirements.every(req => (fieldValue(object, req.field) === req.value) === (req.op === '='));
}

export interface Selection {
  readonly namespace: string | undefined;
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
}

export function selects(selection: Selection, object: Readonly<JsonObject>): boolean {
  const metadata = object.metadata;
  const namespace =
    isJsonObject(metadata) && typeof metadata.namespace === 'string' ? metadata.namespace : '';
  if (selection.namespace !== undefined && namespace !== selection.namespace) return false;
  return labelsMatch(selection.labels, object) && fieldsMatch(selection.fields, object);
}
