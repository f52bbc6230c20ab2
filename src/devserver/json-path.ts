// The JSONPath subset CRD printer columns use (k8s.io/client-go/util/jsonpath, as the apiextensions table
// convertor runs it): `.field`, `['field']`, `[n]`, `[*]`, `..` is not supported, and filters
// `[?(@.a.b=="v")]` / `[?(@.a!="v")]`. A path that does not parse is rejected when the CRD is loaded.
import { isJsonObject, type JsonValue } from './json.ts';

type Step =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'all' }
  | {
      readonly kind: 'filter';
      readonly path: readonly string[];
      readonly op: '==' | '!=';
      readonly value: string;
    };

const filterForm = /^\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([^)\s]+))\)$/;

function bracketStep(inner: string, path: string): Step {
  if (inner === '*') return { kind: 'all' };
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(inner);
  if (quoted !== null) return { kind: 'field', name: quoted[1] ?? quoted[2] ?? '' };
  const filter = filterForm.exec(inner);
  if (filter !== null) {
    return {
      kind: 'filter',
      path: (filter[1] ?? '').slice(1).split('.'),
      op: filter[2] === '!=' ? '!=' : '==',
      value: filter[3] ?? filter[4] ?? filter[5] ?? '',
    };
  }
  throw new Error(`jsonPath ${path}: unsupported expression [${inner}]`);
}

export function parseJsonPath(path: string): readonly Step[] {
  const text = path.startsWith('{') && path.endsWith('}') ? path.slice(1, -1) : path;
  const steps: Step[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '.') {
      const match = /^[A-Za-z0-9_-]+/.exec(text.slice(i + 1));
      if (match === null) throw new Error(`jsonPath ${path}: expected a field name at ${i + 1}`);
      steps.push({ kind: 'field', name: match[0] });
      i += 1 + match[0].length;
    } else if (ch === '[') {
      const close = text.indexOf(']', i);
      if (close < 0) throw new Error(`jsonPath ${path}: unclosed [`);
      steps.push(bracketStep(text.slice(i + 1, close), path));
      i = close + 1;
    } else {
      throw new Error(`jsonPath ${path}: unexpected ${ch ?? ''} at ${i}`);
    }
  }
  return steps;
}

function fieldAt(value: JsonValue | undefined, names: readonly string[]): JsonValue | undefined {
  let current = value;
  for (const name of names) current = isJsonObject(current) ? current[name] : undefined;
  return current;
}

function scalarText(value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function filtered(step: Extract<Step, { kind: 'filter' }>, items: readonly JsonValue[]): JsonValue[] {
  return items.filter(item => {
    const text = scalarText(fieldAt(item, step.path));
    return text !== undefined && (text === step.value) === (step.op === '==');
  });
}

function indexed(index: number, value: JsonValue): JsonValue[] {
  if (!Array.isArray(value)) return [];
  const item = value[index < 0 ? value.length + index : index];
  return item === undefined ? [] : [item];
}

/** The values one step selects from one value. */
function stepValues(step: Step, value: JsonValue): JsonValue[] {
  switch (step.kind) {
    case 'field': {
      const child = isJsonObject(value) ? value[step.name] : undefined;
      return child === undefined ? [] : [child];
    }
    case 'index':
      return indexed(step.index, value);
    case 'all':
      return Array.isArray(value) ? value : isJsonObject(value) ? Object.values(value) : [];
    case 'filter':
      return Array.isArray(value) ? filtered(step, value) : [];
  }
}

/** Every value the path selects, in document order. */
export function evaluateJsonPath(steps: readonly Step[], root: JsonValue): JsonValue[] {
  let current: JsonValue[] = [root];
  for (const step of steps) current = current.flatMap(value => stepValues(step, value));
  return current;
}
