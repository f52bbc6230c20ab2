// Kubernetes RBAC authorization over rendered manifests, the way the API server's RBAC authorizer decides it
// (plugin/pkg/auth/authorizer/rbac): a request is allowed when any rule of any role bound to the subject covers it.
// test/chart/rbac.ts lists grants; this answers "can this service account do X", wildcards and bindings included.
import type { Manifest } from '../chart/helm.ts';
import { rulesOf, type PolicyRule } from '../chart/rbac.ts';

export interface Subject {
  readonly namespace: string;
  readonly name: string;
}

export interface AccessRequest {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
  /** Absent for cluster-scoped objects and for requests across all namespaces. */
  readonly namespace?: string;
}

interface RoleRef {
  readonly kind: string;
  readonly name: string;
}

interface Binding extends Manifest {
  readonly roleRef: RoleRef;
  readonly subjects?: readonly { kind: string; name: string; namespace?: string }[];
}

function matches(values: readonly string[] | undefined, value: string): boolean {
  return (values ?? []).some(v => v === '*' || v === value);
}

/** rbac/v1 ResourceMatches: "*", the exact "resource/subresource", or "*\/subresource". */
function resourceMatches(rule: PolicyRule, request: AccessRequest): boolean {
  const combined =
    request.subresource === undefined ? request.resource : `${request.resource}/${request.subresource}`;
  return (rule.resources ?? []).some(
    r =>
      r === '*' || r === combined || (request.subresource !== undefined && r === `*/${request.subresource}`),
  );
}

/** rbac/v1 RuleAllows: verb, group, resource, and resourceNames when the rule lists any. */
export function ruleAllows(rule: PolicyRule, request: AccessRequest): boolean {
  const names = rule.resourceNames ?? [];
  return (
    matches(rule.verbs, request.verb) &&
    matches(rule.apiGroups, request.group) &&
    resourceMatches(rule, request) &&
    (names.length === 0 || (request.name !== undefined && names.includes(request.name)))
  );
}

function boundTo(binding: Binding, subject: Subject): boolean {
  return (binding.subjects ?? []).some(
    s =>
      (s.kind === 'ServiceAccount' && s.name === subject.name && s.namespace === subject.namespace) ||
      (s.kind === 'Group' &&
        (s.name === 'system:serviceaccounts' ||
          s.name === `system:serviceaccounts:${subject.namespace}` ||
          s.name === 'system:authenticated')),
  );
}

function roleFor(
  manifests: readonly Manifest[],
  ref: RoleRef,
  namespace: string | undefined,
): Manifest | undefined {
  return manifests.find(
    m =>
      m.kind === ref.kind &&
      m.metadata.name === ref.name &&
      (ref.kind === 'ClusterRole' || m.metadata.namespace === namespace),
  );
}

/** The rules that apply to a request by `subject`: cluster-wide bindings always, RoleBindings in their namespace. */
function applicableRules(
  manifests: readonly Manifest[],
  subject: Subject,
  namespace: string | undefined,
): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const manifest of manifests) {
    if (manifest.kind !== 'ClusterRoleBinding' && manifest.kind !== 'RoleBinding') continue;
    const binding = manifest as Binding;
    if (!boundTo(binding, subject)) continue;
    const bindingNamespace = binding.metadata.namespace;
    if (binding.kind === 'RoleBinding' && bindingNamespace !== namespace) continue;
    const role = roleFor(manifests, binding.roleRef, bindingNamespace);
    if (role) rules.push(...rulesOf(role));
  }
  return rules;
}

export function allows(manifests: readonly Manifest[], subject: Subject, request: AccessRequest): boolean {
  return applicableRules(manifests, subject, request.namespace).some(rule => ruleAllows(rule, request));
}

/** Every request of `requests` the subject may make, as "verb group/resource[/sub] [ns]" lines. */
export function allowedOf(
  manifests: readonly Manifest[],
  subject: Subject,
  requests: readonly AccessRequest[],
): string[] {
  return requests
    .filter(request => allows(manifests, subject, request))
    .map(
      r =>
        `${r.verb} ${r.group === '' ? 'core' : r.group}/${r.resource}${r.subresource === undefined ? '' : `/${r.subresource}`}${r.namespace === undefined ? '' : ` in ${r.namespace}`}${r.name === undefined ? '' : ` named ${r.name}`}`,
    );
}
