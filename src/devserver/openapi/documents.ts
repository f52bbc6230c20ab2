// /openapi/v2 and /openapi/v3 of the dev server: the built-in kinds it serves, with their schemas as a real
// kube-apiserver of the release in builtin-schemas.json publishes them (captured by
// scripts/gen-devserver-openapi.ts), and every served CRD version built from its openAPIV3Schema. kubectl reads
// these for client-side and field validation (apply), strategic merge patches of built-in kinds, and explain.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { ResourceRegistry } from '../resource-registry.ts';
import type { ResourceType } from '../resource-types.ts';
import { crdDefinitions, refTo } from './crd-definitions.ts';
import { definitionName, groupVersionPath, metaPrefix } from './names.ts';
import { resourcePaths } from './operations.ts';

interface BuiltinSchemas {
  readonly kubernetesVersion: string;
  /** OpenAPI v3 component schemas, by definition name. */
  readonly schemas: Readonly<Record<string, JsonObject>>;
}

let builtin: BuiltinSchemas | undefined;

function builtinSchemas(): BuiltinSchemas {
  builtin ??= JSON.parse(
    readFileSync(new URL('./builtin-schemas.json', import.meta.url), 'utf8'),
  ) as BuiltinSchemas;
  return builtin;
}

/** Meta types every group-version document carries (bodies and responses refer to them). */
const metaRoots = ['ObjectMeta', 'ListMeta', 'Status', 'Patch', 'DeleteOptions'].map(
  k => `${metaPrefix}.${k}`,
);

function refsIn(value: JsonValue, into: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) refsIn(v, into);
  else if (isJsonObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.add(child.slice(child.lastIndexOf('/') + 1));
      else refsIn(child, into);
    }
  }
}

/** The named definitions plus everything they refer to, from the built-in schemas and `own`. */
function closure(
  roots: Iterable<string>,
  own: Readonly<Record<string, JsonObject>>,
): Record<string, JsonObject> {
  const { schemas } = builtinSchemas();
  const out: Record<string, JsonObject> = {};
  const pending = [...roots];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (out[name] !== undefined) continue;
    const schema = own[name] ?? schemas[name];
    if (schema === undefined) continue; // not published by the server either (e.g. a kind it does not serve)
    out[name] = schema;
    const refs = new Set<string>();
    refsIn(schema, refs);
    pending.push(...refs);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function ownDefinitions(types: readonly ResourceType[], version: 'v2' | 'v3'): Record<string, JsonObject> {
  const own: Record<string, JsonObject> = {};
  for (const type of types) if (!type.builtin) Object.assign(own, crdDefinitions(type, version));
  return own;
}

function kindRoots(types: readonly ResourceType[]): string[] {
  return types.flatMap(type => [definitionName(type), definitionName(type, type.listKind)]);
}

export function openApiV3Document(
  registry: ResourceRegistry,
  group: string,
  version: string,
): JsonObject | undefined {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const paths: Record<string, JsonObject> = {};
  for (const type of types) Object.assign(paths, resourcePaths(type));
  // kube-apiserver's titles: its own group-versions say the minor release, CRD group-versions a fixed string.
  const builtinVersion = /^v(\d+\.\d+)/.exec(builtinSchemas().kubernetesVersion)?.[1] ?? '';
  const info = types.every(t => t.builtin)
    ? { title: 'Kubernetes', version: builtinVersion }
    : { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' };
  return {
    openapi: '3.0.0',
    info,
    paths,
    components: { schemas: closure([...kindRoots(types), ...metaRoots], ownDefinitions(types, 'v3')) },
  };
}

function groupVersions(registry: ResourceRegistry): { group: string; version: string }[] {
  return [
    { group: '', version: 'v1' },
    ...registry.groups().flatMap(g => g.versions.map(version => ({ group: g.group, version }))),
  ];
}

export function documentHash(document: JsonObject): string {
  return createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
}

/** /openapi/v3: one entry per group-version; the hash changes when its document does. */
export function openApiV3Root(registry: ResourceRegistry): JsonObject {
  const paths: JsonObject = {};
  for (const { group, version } of groupVersions(registry)) {
    const document = openApiV3Document(registry, group, version);
    if (document === undefined) continue;
    const path = groupVersionPath(group, version);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${documentHash(document)}` };
  }
  return { paths };
}

/** A v3 schema tree as v2 writes it: definitions refs, and a described ref without the allOf wrapper. */
function v3ToV2(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(v3ToV2);
  if (!isJsonObject(value)) return value;
  const allOf = value.allOf;
  if (
    Array.isArray(allOf) &&
    allOf.length === 1 &&
    isJsonObject(allOf[0]) &&
    typeof allOf[0].$ref === 'string'
  ) {
    const rest: JsonObject = { ...value };
    delete rest.allOf;
    delete rest.default;
    return v3ToV2({ ...rest, $ref: allOf[0].$ref });
  }
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof child === 'string'
        ? refTo(child.slice(child.lastIndexOf('/') + 1), 'v2')
        : v3ToV2(child);
  }
  return out;
}

/** /openapi/v2: the definitions of every served kind (paths are not published; see docs/devserver.md). */
export function openApiV2Document(registry: ResourceRegistry): JsonObject {
  const types = groupVersions(registry).flatMap(({ group, version }) =>
    registry.inGroupVersion(group, version),
  );
  const builtinDefinitions = closure([...kindRoots(types.filter(t => t.builtin)), ...metaRoots], {});
  const definitions: JsonObject = {};
  for (const [name, schema] of Object.entries(builtinDefinitions)) definitions[name] = v3ToV2(schema);
  Object.assign(definitions, ownDefinitions(types, 'v2'));
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: builtinSchemas().kubernetesVersion },
    paths: {},
    definitions: Object.fromEntries(
      Object.entries(definitions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ),
  };
}
