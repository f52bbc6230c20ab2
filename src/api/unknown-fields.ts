// Fields of an input that a zod object schema does not declare: what the API server would prune. Found by walking
// the schema's shape next to the input, so it works on input that fails validation too; `nodeqos validate` can
// then report schema errors and unknown fields in one pass.
import type { z } from 'zod';
import { formatPath } from './issues.ts';

/** The parts of zod's (v4) schema definitions the walk reads. */
interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly valueType?: z.ZodType;
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
  readonly getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function walkObject(def: Def, input: unknown, path: PropertyKey[], depth: number): string[] {
  const shape = def.shape;
  if (!isRecord(input) || shape === undefined) return [];
  return Object.keys(input).flatMap(key => {
    // Own keys only: an input key such as "constructor" must not find Object.prototype's.
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    return field === undefined
      ? [formatPath([...path, key])]
      : walk(field, input[key], [...path, key], depth + 1);
  });
}

function walkItems(def: Def, input: unknown, path: PropertyKey[], depth: number): string[] {
  const element = def.element;
  if (!Array.isArray(input) || element === undefined) return [];
  return input.flatMap((item, i) => walk(element, item, [...path, i], depth + 1));
}

function walkRecord(def: Def, input: unknown, path: PropertyKey[], depth: number): string[] {
  const value = def.valueType;
  if (!isRecord(input) || value === undefined) return [];
  return Object.keys(input).flatMap(key => walk(value, input[key], [...path, key], depth + 1));
}

/** A key is unknown to an intersection only when neither side declares it. */
function walkIntersection(def: Def, input: unknown, path: PropertyKey[], depth: number): string[] {
  const left = new Set(def.left ? walk(def.left, input, path, depth + 1) : []);
  return (def.right ? walk(def.right, input, path, depth + 1) : []).filter(p => left.has(p));
}

/** The option of a union that explains the input best: the fewest unknown fields. */
function walkUnion(def: Def, input: unknown, path: PropertyKey[], depth: number): string[] {
  const candidates = (def.options ?? []).map(option => walk(option, input, path, depth + 1));
  return (
    candidates.reduce<string[] | undefined>(
      (best, found) => (best === undefined || found.length < best.length ? found : best),
      undefined,
    ) ?? []
  );
}

/** The schema a wrapper (optional, default, pipe, lazy, ...) stands for, or undefined for anything else. */
function unwrapped(def: Def): z.ZodType | undefined {
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return def.innerType;
    case 'pipe':
      return def.in;
    case 'lazy':
      return def.getter?.();
    default:
      return undefined;
  }
}

const walkers: Record<string, (def: Def, input: unknown, path: PropertyKey[], depth: number) => string[]> = {
  object: walkObject,
  array: walkItems,
  record: walkRecord,
  intersection: walkIntersection,
  union: walkUnion,
};

function walk(schema: z.ZodType, input: unknown, path: PropertyKey[], depth: number): string[] {
  // Inputs come from files; a self-referencing schema (z.lazy) on hostile input must not recurse without end.
  if (depth > 64) return [];
  const def = defOf(schema);
  const walker = walkers[def.type];
  if (walker) return walker(def, input, path, depth);
  const inner = unwrapped(def);
  return inner === undefined ? [] : walk(inner, input, path, depth + 1);
}

/** Dotted paths (`spec.classes.LS.cpu.foo`) of every input field the schema does not declare. */
export function unknownFields(schema: z.ZodType, input: unknown): string[] {
  return walk(schema, input, [], 0);
}
