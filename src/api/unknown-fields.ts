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

function walk(schema: z.ZodType, input: unknown, path: PropertyKey[], depth: number): string[] {
  // Inputs come from files; a self-referencing schema (z.lazy) on hostile input must not recurse without end.
  if (depth > 64) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'object': {
      if (!isRecord(input) || def.shape === undefined) return [];
      const shape = def.shape;
      return Object.keys(input).flatMap(key =>
        Object.hasOwn(shape, key)
          ? walk(shape[key] as z.ZodType, input[key], [...path, key], depth + 1)
          : [formatPath([...path, key])],
      );
    }
    case 'array':
      return Array.isArray(input) && def.element
        ? input.flatMap((item, i) => walk(def.element as z.ZodType, item, [...path, i], depth + 1))
        : [];
    case 'record':
      return isRecord(input) && def.valueType
        ? Object.keys(input).flatMap(key =>
            walk(def.valueType as z.ZodType, input[key], [...path, key], depth + 1),
          )
        : [];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return def.innerType ? walk(def.innerType, input, path, depth + 1) : [];
    case 'pipe':
      return def.in ? walk(def.in, input, path, depth + 1) : [];
    case 'lazy':
      return def.getter ? walk(def.getter(), input, path, depth + 1) : [];
    case 'intersection': {
      // A key is unknown only when neither side declares it.
      const left = new Set(def.left ? walk(def.left, input, path, depth + 1) : []);
      return (def.right ? walk(def.right, input, path, depth + 1) : []).filter(p => left.has(p));
    }
    case 'union': {
      // The option that explains the input best: the fewest unknown fields.
      const candidates = (def.options ?? []).map(option => walk(option, input, path, depth + 1));
      return (
        candidates.reduce<string[] | undefined>(
          (best, found) => (best === undefined || found.length < best.length ? found : best),
          undefined,
        ) ?? []
      );
    }
    default:
      return [];
  }
}

/** Dotted paths (`spec.classes.LS.cpu.foo`) of every input field the schema does not declare. */
export function unknownFields(schema: z.ZodType, input: unknown): string[] {
  return walk(schema, input, [], 0);
}
