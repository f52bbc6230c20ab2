// Which built-in OpenAPI schemas the dev server publishes: those of the kinds it serves plus the meta types
// every document refers to, and everything they reference. Shared by scripts/gen-devserver-openapi.ts (which
// captures them from a real server) and the conformance test (which checks the capture is current).
const core = 'io.k8s.api.core.v1';
const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export const builtinOpenApiRoots = {
  documents: ['api/v1', 'apis/coordination.k8s.io/v1', 'apis/events.k8s.io/v1'],
  schemas: [
    ...['Namespace', 'Node', 'Pod', 'Event'].flatMap(k => [`${core}.${k}`, `${core}.${k}List`]),
    'io.k8s.api.coordination.v1.Lease',
    'io.k8s.api.coordination.v1.LeaseList',
    'io.k8s.api.events.v1.Event',
    'io.k8s.api.events.v1.EventList',
    ...['ObjectMeta', 'ListMeta', 'Status', 'Patch', 'DeleteOptions'].map(k => `${meta}.${k}`),
  ],
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function refs(value: Json, into: string[]): void {
  if (Array.isArray(value)) for (const v of value) refs(v, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.push(child.slice(child.lastIndexOf('/') + 1));
      else refs(child, into);
    }
  }
}

/** The closure of the roots over the component schemas of the given OpenAPI v3 documents, sorted by name. */
export function builtinSchemasFrom(documents: readonly unknown[]): Record<string, Json> {
  const all: Record<string, Json> = {};
  for (const document of documents) {
    const schemas =
      (document as { components?: { schemas?: Record<string, Json> } }).components?.schemas ?? {};
    Object.assign(all, schemas);
  }
  const out: Record<string, Json> = {};
  const pending = [...builtinOpenApiRoots.schemas];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (out[name] !== undefined) continue;
    const schema = all[name];
    if (schema === undefined) throw new Error(`the real server publishes no schema ${name}`);
    out[name] = schema;
    refs(schema, pending);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
