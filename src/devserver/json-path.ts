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

/** Every value the path selects, in document order. */
export function evaluateJsonPath(steps: readonly Step[], root: JsonValue): JsonValue[] {
  let current: JsonValue[] = [root];
  for (const step of steps) {
    const next: JsonValue[] = [];
    for (const value of current) {
      if (step.kind === 'field') {
        if (isJsonObject(value) && value[step.name] !== undefined) next.push(value[step.name] as JsonValue);
      } else if (step.kind === 'index') {
        if (Array.isArray(value)) {
          const item = value[step.index < 0 ? value.length + step.index : step.index];
          if (item !== undefined) next.push(item);
        }
      } else if (step.kind === 'all') {
        if (Array.isArray(value)) next.push(...value);
        else if (isJsonObject(value)) next.push(...Object.values(value));
      } else if (Array.isArray(value)) {
        for (const item of value) {
          const text = scalarText(fieldAt(item, step.path));
          if (text === undefined) continue;
          if ((text === step.value) === (step.op === '==')) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}
