// Which requests a policy's matchConstraints (and a binding's matchResources) select: resourceRules minus
// excludeResourceRules, then namespaceSelector and objectSelector, as k8s.io/apiserver's admission matching does.
import type { LabelSelector } from '../../api/meta.ts';
import { selectorMatches } from '../../api/selector.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { ObjectStore } from '../store.ts';
import type { AdmissionAttributes } from './attributes.ts';
import { labelSelectorOf } from './label-selector.ts';
import { labelsOf } from '../object-meta.ts';

function strings(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function listed(values: readonly string[], wanted: string): boolean {
  return values.includes('*') || values.includes(wanted);
}

/**
 * `pods` is the resource itself, `pods/status` one subresource, `pods/*` the resource and all its subresources,
 * `*` every resource (no subresource), `*\/status` that subresource of every resource, `*\/*` everything.
 */
function resourceListed(patterns: readonly string[], resource: string, subResource: string): boolean {
  return patterns.some(pattern => {
    const [res = '', sub] = pattern.split('/', 2);
    if (res !== '*' && res !== resource) return false;
    if (sub === undefined) return subResource === '';
    return sub === '*' || sub === subResource;
  });
}

function ruleMatches(rule: JsonValue, attrs: AdmissionAttributes): boolean {
  if (!isJsonObject(rule)) return false;
  const scope = typeof rule.scope === 'string' ? rule.scope : '*';
  const scoped = scope === '*' || (scope === 'Namespaced') === attrs.namespaced;
  const names = strings(rule.resourceNames);
  return (
    scoped &&
    (names.length === 0 || names.includes(attrs.name)) &&
    listed(strings(rule.operations), attrs.operation) &&
    listed(strings(rule.apiGroups), attrs.resource.group) &&
    listed(strings(rule.apiVersions), attrs.resource.version) &&
    resourceListed(strings(rule.resources), attrs.resource.resource, attrs.subResource)
  );
}

/** A namespaceSelector applies to namespaced requests and to Namespace objects themselves (their own labels). */
function namespaceSelected(
  selector: LabelSelector | undefined | null,
  attrs: AdmissionAttributes,
  store: ObjectStore,
): boolean {
  if (selector === undefined) return true;
  if (selector === null) return false;
  if (attrs.resource.group === '' && attrs.resource.resource === 'namespaces')
    return selectorMatches(selector, labelsOf(attrs.object ?? attrs.oldObject));
  if (!attrs.namespaced) return true;
  return selectorMatches(selector, labelsOf(store.get('namespaces', '', attrs.namespace)));
}

/** An objectSelector matches when the object or the old object has matching labels. */
function objectSelected(selector: LabelSelector | undefined | null, attrs: AdmissionAttributes): boolean {
  if (selector === undefined) return true;
  if (selector === null) return false;
  return [attrs.object, attrs.oldObject].some(
    object => object !== undefined && selectorMatches(selector, labelsOf(object)),
  );
}

export function resourcesMatch(
  match: JsonObject,
  attrs: AdmissionAttributes,
  store: ObjectStore,
  requireRules: boolean,
): boolean {
  const rules = Array.isArray(match.resourceRules) ? match.resourceRules : [];
  if ((requireRules || rules.length > 0) && !rules.some(rule => ruleMatches(rule, attrs))) return false;
  const excluded = Array.isArray(match.excludeResourceRules) ? match.excludeResourceRules : [];
  if (excluded.some(rule => ruleMatches(rule, attrs))) return false;
  return (
    namespaceSelected(labelSelectorOf(match.namespaceSelector), attrs, store) &&
    objectSelected(labelSelectorOf(match.objectSelector), attrs)
  );
}
