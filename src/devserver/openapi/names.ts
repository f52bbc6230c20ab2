// OpenAPI definition names, as kube-apiserver forms them: built-in types by Go package
// (io.k8s.api.core.v1.Pod), custom resources by reversed group (nodeqos.io -> io.nodeqos.v1alpha1.Kind).
import type { ResourceType } from '../resource-types.ts';

const builtinPackages: Readonly<Record<string, string>> = {
  '': 'io.k8s.api.core',
  'coordination.k8s.io': 'io.k8s.api.coordination',
  'events.k8s.io': 'io.k8s.api.events',
};

export const metaPrefix = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export function definitionName(
  type: Pick<ResourceType, 'builtin' | 'group' | 'version' | 'kind'>,
  kind = type.kind,
): string {
  const builtin = type.builtin ? builtinPackages[type.group] : undefined;
  if (builtin !== undefined) return `${builtin}.${type.version}.${kind}`;
  const reversed = type.group.split('.').reverse().join('.');
  return `${reversed}.${type.version}.${kind}`;
}

/** The openapi/v3 path of a group-version: `api/v1`, `apis/nodeqos.io/v1alpha1`. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}
