// Maps a request path to discovery documents or to a resource target (type, namespace, name, subresource).
import { routeNotFound } from './api-error.ts';
import type { ResourceRegistry } from './resource-registry.ts';
import type { ResourceType } from './resource-types.ts';

export interface ResourceTarget {
  readonly type: ResourceType;
  /** The URL's namespace; undefined for cluster-scoped types and all-namespace lists. */
  readonly namespace: string | undefined;
  /** Undefined for collection requests. */
  readonly name: string | undefined;
  readonly subresource: Subresource | undefined;
}

/** The subresources served: status (with a status subresource), pods/eviction, serviceaccounts/token. */
export type Subresource = 'status' | 'eviction' | 'token';

export type Route =
  | { readonly kind: 'health' }
  | { readonly kind: 'version' }
  | { readonly kind: 'coreVersions' }
  | { readonly kind: 'groups' }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'resources'; readonly group: string; readonly version: string }
  | { readonly kind: 'openapiV2' }
  | { readonly kind: 'openapiV3Root' }
  | { readonly kind: 'openapiV3'; readonly group: string; readonly version: string }
  | { readonly kind: 'resource'; readonly target: ResourceTarget };

const healthPaths = new Set(['/healthz', '/readyz', '/livez']);

interface Parts {
  readonly plural: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  readonly extra: boolean;
}

function splitResourcePath(rest: readonly string[]): Parts {
  const namespacedItem =
    rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize';
  const parts = namespacedItem ? rest.slice(2) : rest;
  return {
    plural: parts[0],
    namespace: namespacedItem ? rest[1] : undefined,
    name: parts[1],
    subresource: parts[2],
    extra: parts.length > 3,
  };
}

/** Whether `type` serves `subresource`: status when it has one, pods/eviction, serviceaccounts/token. */
function servesSubresource(type: ResourceType, subresource: string): boolean {
  switch (subresource) {
    case 'status':
      return type.statusSubresource;
    case 'eviction':
      return type.key === 'pods';
    case 'token':
      return type.key === 'serviceaccounts';
    default:
      return false;
  }
}

function checkParts(type: ResourceType, parts: Parts): void {
  const misplaced =
    (parts.namespace !== undefined && !type.namespaced) ||
    (parts.namespace === undefined && type.namespaced && parts.name !== undefined);
  const badSubresource = parts.subresource !== undefined && !servesSubresource(type, parts.subresource);
  if (parts.extra || misplaced || badSubresource) throw routeNotFound();
}

function resourceRoute(
  registry: ResourceRegistry,
  group: string,
  version: string,
  rest: readonly string[],
): Route {
  const parts = splitResourcePath(rest);
  const type = parts.plural === undefined ? undefined : registry.find(group, version, parts.plural);
  if (type === undefined) throw routeNotFound();
  checkParts(type, parts);
  const subresource = parts.subresource as Subresource | undefined;
  return { kind: 'resource', target: { type, namespace: parts.namespace, name: parts.name, subresource } };
}

function coreRoute(registry: ResourceRegistry, segments: readonly string[]): Route {
  const [version, ...rest] = segments;
  if (version === undefined) return { kind: 'coreVersions' };
  if (version !== 'v1') throw routeNotFound();
  if (rest.length === 0) return { kind: 'resources', group: '', version };
  return resourceRoute(registry, '', version, rest);
}

function groupRoute(registry: ResourceRegistry, segments: readonly string[]): Route {
  const [group, version, ...rest] = segments;
  if (group === undefined) return { kind: 'groups' };
  if (!registry.groups().some(g => g.group === group)) throw routeNotFound();
  if (version === undefined) return { kind: 'group', group };
  if (rest.length > 0) return resourceRoute(registry, group, version, rest);
  if (registry.inGroupVersion(group, version).length === 0) throw routeNotFound();
  return { kind: 'resources', group, version };
}

export function parseRoute(pathname: string, registry: ResourceRegistry): Route {
  if (healthPaths.has(pathname)) return { kind: 'health' };
  if (pathname === '/version') return { kind: 'version' };
  if (pathname === '/openapi/v2') return { kind: 'openapiV2' };
  if (pathname === '/openapi/v3' || pathname === '/openapi/v3/') return { kind: 'openapiV3Root' };
  const v3 = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(pathname);
  if (v3 !== null) return { kind: 'openapiV3', group: v3[2] ?? '', version: v3[1] ?? v3[3] ?? '' };
  const [root, ...segments] = pathname
    .split('/')
    .filter(s => s !== '')
    .map(s => decodeURIComponent(s));
  if (root === 'api') return coreRoute(registry, segments);
  if (root === 'apis') return groupRoute(registry, segments);
  throw routeNotFound();
}
