// Discovery documents (/api, /apis, APIResourceList, /version) so clients such as KubernetesObjectApi can
// resolve kinds to resources. Each resource with a status subresource also lists `<plural>/status`.
import { routeNotFound } from './api-error.ts';
import type { JsonObject } from './json.ts';
import type { ResourceRegistry } from './resource-registry.ts';
import type { ResourceType } from './resource-types.ts';

const resourceVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const statusVerbs = ['get', 'patch', 'update'];

function resourceEntries(type: ResourceType): JsonObject[] {
  const main: JsonObject = {
    name: type.plural,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: type.virtual ? ['create'] : resourceVerbs,
  };
  if (type.shortNames.length > 0) main.shortNames = [...type.shortNames];
  if (type.categories.length > 0) main.categories = [...type.categories];
  // pods/eviction: the Eviction API (policy/v1 Eviction, create only), as a real server lists it.
  const eviction: JsonObject[] =
    type.key === 'pods'
      ? [
          {
            name: 'pods/eviction',
            singularName: '',
            namespaced: true,
            group: 'policy',
            version: 'v1',
            kind: 'Eviction',
            verbs: ['create'],
          },
        ]
      : [];
  // serviceaccounts/token: TokenRequest (authentication.k8s.io/v1, create only).
  const token: JsonObject[] =
    type.key === 'serviceaccounts'
      ? [
          {
            name: 'serviceaccounts/token',
            singularName: '',
            namespaced: true,
            group: 'authentication.k8s.io',
            version: 'v1',
            kind: 'TokenRequest',
            verbs: ['create'],
          },
        ]
      : [];
  if (!type.statusSubresource) return [main, ...eviction, ...token];
  return [
    main,
    ...eviction,
    ...token,
    {
      name: `${type.plural}/status`,
      singularName: '',
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: statusVerbs,
    },
  ];
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): JsonObject {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: registry.inGroupVersion(group, version).flatMap(resourceEntries),
  };
}

export function coreApiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(group: string, versions: readonly string[]): JsonObject {
  const entries = versions.map(version => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: entries, preferredVersion: entries[0] ?? {} };
}

export function apiGroupList(registry: ResourceRegistry): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry.groups().map(g => apiGroup(g.group, g.versions)),
  };
}

export function apiGroupDocument(registry: ResourceRegistry, group: string): JsonObject {
  const found = registry.groups().find(g => g.group === group);
  if (found === undefined) throw routeNotFound();
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(found.group, found.versions) };
}

export function versionInfo(): JsonObject {
  return {
    major: '1',
    minor: '34',
    gitVersion: 'v1.34.0-nodeqos-devserver',
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: 'none (nodeqos dev server, not a kube-apiserver)',
    compiler: 'none',
    platform: `${process.platform}/${process.arch}`,
  };
}
