// Structure-aware mutation: take a valid object, then replace, delete or add at a random path. Most cases stay
// close to valid, so they reach the code past the schema instead of all failing on the first field.
import fc from 'fast-check';
import { hostileString, hostileValue } from './hostile.ts';

export type Path = readonly (string | number)[];

function isContainer(value: unknown): value is Record<string | number, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Valid bases are shallower than this; hostile values inserted deeper (10 000 levels) are not walked. */
const maxPathDepth = 12;

/** Every mutable path in a JSON-like value, the root included; frozen (shared) values are leaves. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (prefix.length >= maxPathDepth || !isContainer(value) || Object.isFrozen(value)) return paths;
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, i) => [i, item])
    : Object.entries(value);
  for (const [key, item] of entries) paths.push(...pathsOf(item, [...prefix, key]));
  return paths;
}

export type Mutation =
  | { readonly op: 'replace'; readonly at: number; readonly value: unknown }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'addKey'; readonly at: number; readonly key: string; readonly value: unknown };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('addKey' as const),
      at: fc.nat(),
      key: hostileString,
      value: hostileValue,
    }),
  },
);

function parentOf(root: unknown, path: Path): unknown {
  let node = root;
  for (const part of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[part];
  return node;
}

function applyAt(root: unknown, path: Path, mutation: Mutation): void {
  const parent = parentOf(root, path) as Record<string | number, unknown>;
  const key = path[path.length - 1] ?? '';
  if (mutation.op === 'replace') parent[key] = mutation.value;
  else if (mutation.op === 'delete') {
    if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
    else Reflect.deleteProperty(parent, key);
  } else {
    const target = parent[key];
    if (isContainer(target) && !Array.isArray(target) && !Object.isFrozen(target))
      // defineProperty: a key named "__proto__" becomes an own property, as JSON.parse makes it.
      Object.defineProperty(target, mutation.key, {
        value: mutation.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
}

/** Applies mutations to a deep copy of `base`; a mutation's `at` picks among the paths present at that moment. */
export function mutate(base: unknown, mutations: readonly Mutation[]): unknown {
  let root = structuredClone(base);
  for (const mutation of mutations) {
    const paths = pathsOf(root);
    const path = paths[mutation.at % paths.length] ?? [];
    if (path.length > 0) applyAt(root, path, mutation);
    else if (mutation.op === 'replace') root = mutation.value;
  }
  return root;
}

/** A valid base (from `valid`) with 0..maxMutations random mutations: 0 keeps some cases fully valid. */
export function mutated<T>(valid: fc.Arbitrary<T>, maxMutations = 3): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid, fc.array(mutationArb, { maxLength: maxMutations }))
    .map(([base, mutations]) => mutate(base, mutations));
}
