// RBAC checks of rendered Roles and ClusterRoles.
import type { Manifest } from './helm.ts';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export const roleKinds = new Set(['Role', 'ClusterRole']);

/** Verbs that let a subject grant itself more than it holds. */
const escalatingVerbs = new Set(['escalate', 'bind', 'impersonate']);

export function rulesOf(role: Manifest): PolicyRule[] {
  return (role.rules as PolicyRule[] | undefined) ?? [];
}

/** Every wildcard, escalating verb, non-resource URL or aggregation in a Role or ClusterRole. */
export function broadGrants(role: Manifest): string[] {
  const where = `${role.kind}/${role.metadata.name}`;
  const found: string[] = [];
  if ('aggregationRule' in role)
    found.push(`${where}: aggregationRule (grants whatever matching roles hold)`);
  rulesOf(role).forEach((rule, i) => {
    const fields = {
      apiGroups: rule.apiGroups ?? [],
      resources: rule.resources ?? [],
      verbs: rule.verbs,
      resourceNames: rule.resourceNames ?? [],
    };
    for (const [field, values] of Object.entries(fields)) {
      for (const value of values)
        if (value.includes('*')) found.push(`${where}: rules[${i}].${field} has "${value}"`);
    }
    for (const verb of rule.verbs)
      if (escalatingVerbs.has(verb)) found.push(`${where}: rules[${i}] grants ${verb}`);
    if ((rule.nonResourceURLs ?? []).length > 0) found.push(`${where}: rules[${i}] grants nonResourceURLs`);
  });
  return found;
}

/** "group/resource verb" strings, one per grant, sorted: an order-free view of a role for comparisons. */
export function grants(role: Manifest): string[] {
  return rulesOf(role)
    .flatMap(rule =>
      (rule.apiGroups ?? ['']).flatMap(group =>
        (rule.resources ?? []).flatMap(resource =>
          rule.verbs.map(verb => {
            const names = rule.resourceNames?.length ? `[${rule.resourceNames.join(',')}]` : '';
            return `${group === '' ? 'core' : group}/${resource}${names} ${verb}`;
          }),
        ),
      ),
    )
    .sort();
}
