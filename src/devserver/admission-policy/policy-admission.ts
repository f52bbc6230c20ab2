// ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) for the dev server: every binding whose policy
// matches a write evaluates the policy's matchConditions, variables and validations in CEL, once per parameter
// object when the policy has a paramKind, and a failed validation denies the write (validationActions Deny) or
// adds a warning (Warn). Follows k8s.io/apiserver/pkg/admission/plugin/policy/validating; what it leaves out
// (type checking into status, auditAnnotations, the `authorizer` variable) is listed in docs/devserver.md.
import { randomUUID } from 'node:crypto';
import { isCelError, type CelInput, type CelResult } from '@bufbuild/cel';
import { selectorMatches } from '../../api/selector.ts';
import { ApiError } from '../api-error.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import type { ResourceRegistry } from '../resource-registry.ts';
import type { ResourceType } from '../resource-types.ts';
import { compile } from '../schema/cel-rules.ts';
import { nameOf, type ObjectStore } from '../store.ts';
import type { AdmissionAttributes } from './attributes.ts';
import { objectCel, requestCel } from './cel-values.ts';
import { labelSelectorOf } from './label-selector.ts';
import { resourcesMatch } from './match.ts';
import { labelsOf } from '../object-meta.ts';

export const policyResource = 'validatingadmissionpolicies.admissionregistration.k8s.io';
export const bindingResource = 'validatingadmissionpolicybindings.admissionregistration.k8s.io';

const statusCodes: Readonly<Record<string, number>> = {
  Unauthorized: 401,
  Forbidden: 403,
  Invalid: 422,
  RequestEntityTooLarge: 413,
};

function exempt(attrs: AdmissionAttributes): boolean {
  return (
    attrs.resource.group === 'admissionregistration.k8s.io' &&
    (attrs.resource.resource === 'validatingadmissionpolicies' ||
      attrs.resource.resource === 'validatingadmissionpolicybindings')
  );
}

/**
 * The error of a denied request, as kube-apiserver builds it (admission.NewForbidden, then the validation's reason
 * and its status code): `<resource> "<name>" is forbidden: ValidatingAdmissionPolicy ... denied request: ...`.
 */
function denial(attrs: AdmissionAttributes, text: string, failure: Failure): ApiError {
  const { group, resource } = attrs.resource;
  const qualified = group === '' ? resource : `${resource}.${group}`;
  return new ApiError(
    statusCodes[failure.reason] ?? 422,
    failure.reason,
    `${qualified} "${attrs.name}" is forbidden: ${text}`,
    { name: attrs.name, group, kind: resource },
  );
}

/** One validation that did not pass: a false result, or an error the failure policy does not ignore. */
interface Failure {
  readonly message: string;
  /** metav1.StatusReason; a validation without one answers Invalid (422). */
  readonly reason: string;
}

function field(object: Readonly<JsonObject> | undefined, key: string): JsonObject {
  const value = object?.[key];
  return isJsonObject(value) ? value : {};
}

function text(object: JsonObject, key: string): string {
  const value = object[key];
  return typeof value === 'string' ? value : '';
}

function entries(object: JsonObject, key: string): JsonObject[] {
  const value = object[key];
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

/** A CEL result, or why there is none (a compile error, an evaluation error such as a missing field). */
type Outcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

function run(expression: string, activation: Record<string, CelInput>): Outcome {
  try {
    const value: CelResult = compile(expression)(activation);
    return isCelError(value) ? { ok: false, error: value.message } : { ok: true, value };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Policy variables, evaluated on first use (as a real server does) and each at most once per activation. */
class LazyVariables extends Map<string, CelInput> {
  readonly #expressions: ReadonlyMap<string, string>;
  readonly #values = new Map<string, Outcome>();
  readonly #activation: () => Record<string, CelInput>;

  constructor(variables: readonly JsonObject[], activation: () => Record<string, CelInput>) {
    super();
    this.#expressions = new Map(variables.map(v => [text(v, 'name'), text(v, 'expression')]));
    this.#activation = activation;
  }

  override has(name: string): boolean {
    return this.#expressions.has(name);
  }

  override get(name: string): CelInput {
    let value = this.#values.get(name);
    if (value === undefined) {
      const expression = this.#expressions.get(name);
      if (expression === undefined) throw new Error(`no such variable: ${name}`);
      value = run(expression, this.#activation());
      this.#values.set(name, value);
    }
    if (!value.ok) throw new Error(`variable "${name}" resulted in error: ${value.error}`);
    return value.value as CelInput;
  }
}

interface Evaluation {
  readonly spec: JsonObject;
  readonly attrs: AdmissionAttributes;
  readonly base: Record<string, CelInput>;
  readonly ignoreErrors: boolean;
}

/**
 * Whether every matchCondition holds. As kube-apiserver's matcher: any false condition means the policy does not
 * apply, whatever the others gave; only without a false one does an error count (a failure unless ignored).
 */
function conditionsHold(
  spec: JsonObject,
  activation: Record<string, CelInput>,
  fail: (expression: string, result: Outcome) => void,
): boolean {
  const errors: { expression: string; result: Outcome }[] = [];
  for (const condition of entries(spec, 'matchConditions')) {
    const expression = text(condition, 'expression');
    const result = run(expression, activation);
    if (!result.ok || typeof result.value !== 'boolean') errors.push({ expression, result });
    else if (!result.value) return false;
  }
  const first = errors[0];
  if (first === undefined) return true;
  fail(first.expression, first.result);
  return false;
}

/** The message of a failed validation: its messageExpression when that gives a non-blank string. */
function messageOf(validation: JsonObject, expression: string, activation: Record<string, CelInput>): string {
  const custom = text(validation, 'messageExpression');
  const computed = custom === '' ? undefined : run(custom, activation);
  // A blank or multi-line result falls back to message, as on a real server.
  const computedText =
    computed?.ok === true && typeof computed.value === 'string' ? computed.value.trim() : '';
  if (computedText !== '' && !computedText.includes('\n')) return computedText;
  return text(validation, 'message').trim() || `failed expression: ${expression}`;
}

/** The failures for one parameter object (or none): empty when it passes or a matchCondition is false. */
function evaluateWith(evaluation: Evaluation, params: CelInput): Failure[] {
  const { spec, ignoreErrors } = evaluation;
  const activation: Record<string, CelInput> = { ...evaluation.base, params };
  activation.variables = new LazyVariables(entries(spec, 'variables'), () => activation);
  const failures: Failure[] = [];
  const fail = (expression: string, result: Outcome): void => {
    const why = result.ok ? `expected a bool, got ${typeof result.value}` : result.error;
    if (!ignoreErrors)
      failures.push({ message: `expression '${expression}' resulted in error: ${why}`, reason: 'Invalid' });
  };
  if (!conditionsHold(spec, activation, fail)) return failures;
  for (const validation of entries(spec, 'validations')) {
    const expression = text(validation, 'expression');
    const result = run(expression, activation);
    if (!result.ok || typeof result.value !== 'boolean') fail(expression, result);
    else if (!result.value)
      failures.push({
        message: messageOf(validation, expression, activation),
        reason: text(validation, 'reason') || 'Invalid',
      });
  }
  return failures;
}

export class AdmissionPolicies {
  readonly #store: ObjectStore;
  readonly #registry: ResourceRegistry;

  constructor(store: ObjectStore, registry: ResourceRegistry) {
    this.#store = store;
    this.#registry = registry;
  }

  /** Evaluates every binding for the request; throws the first denial, returns the warnings. */
  enforce(attrs: AdmissionAttributes): string[] {
    // Policies never apply to policies and bindings (a policy could otherwise lock its own binding in place).
    if (exempt(attrs)) return [];
    const bindings = this.#store.list(bindingResource);
    if (bindings.length === 0) return [];
    const policies = new Map(this.#store.list(policyResource).map(p => [nameOf(p), p]));
    const warnings: string[] = [];
    for (const binding of bindings) {
      const bindingSpec = field(binding, 'spec');
      const policy = policies.get(text(bindingSpec, 'policyName'));
      if (policy === undefined) continue;
      const failures = this.#evaluate(policy, binding, attrs);
      const actions = Array.isArray(bindingSpec.validationActions) ? bindingSpec.validationActions : [];
      const label = `ValidatingAdmissionPolicy '${nameOf(policy)}' with binding '${nameOf(binding)}'`;
      for (const failure of failures) {
        if (actions.includes('Deny'))
          throw denial(attrs, `${label} denied request: ${failure.message}`, failure);
        if (actions.includes('Warn')) warnings.push(`Validation failed for ${label}: ${failure.message}`);
      }
    }
    return warnings;
  }

  #evaluate(policy: JsonObject, binding: JsonObject, attrs: AdmissionAttributes): Failure[] {
    const spec = field(policy, 'spec');
    const bindingSpec = field(binding, 'spec');
    if (!resourcesMatch(field(spec, 'matchConstraints'), attrs, this.#store, true)) return [];
    if (
      isJsonObject(bindingSpec.matchResources) &&
      !resourcesMatch(bindingSpec.matchResources, attrs, this.#store, false)
    )
      return [];
    const ignoreErrors = text(spec, 'failurePolicy') === 'Ignore';
    const targetType = this.#registry.find(
      attrs.resource.group,
      attrs.resource.version,
      attrs.resource.resource,
    );
    const namespaceObject =
      attrs.namespaced && attrs.namespace !== ''
        ? this.#store.get('namespaces', '', attrs.namespace)
        : undefined;
    const evaluation: Evaluation = {
      spec,
      attrs,
      ignoreErrors,
      base: {
        object: objectCel(attrs.object, attrs.subResource === 'eviction' ? undefined : targetType),
        oldObject: objectCel(attrs.oldObject, targetType),
        request: requestCel(attrs, randomUUID()),
        namespaceObject: objectCel(namespaceObject, this.#registry.find('', 'v1', 'namespaces')),
      },
    };
    const paramKind = spec.paramKind;
    if (!isJsonObject(paramKind)) return evaluateWith(evaluation, null);
    const params = this.#params(paramKind, bindingSpec, attrs);
    if (typeof params === 'string')
      return ignoreErrors ? [] : [{ message: `failed to configure binding: ${params}`, reason: 'Invalid' }];
    return params.objects.flatMap(param =>
      evaluateWith(evaluation, param === null ? null : objectCel(param, params.type)),
    );
  }

  /** The parameter objects a binding names, or why there are none to evaluate with. */
  #params(
    paramKind: JsonObject,
    bindingSpec: JsonObject,
    attrs: AdmissionAttributes,
  ): { type: ResourceType; objects: (JsonObject | null)[] } | string {
    const apiVersion = text(paramKind, 'apiVersion');
    const slash = apiVersion.indexOf('/');
    const [group, version] =
      slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    const type = this.#registry.inGroupVersion(group, version).find(t => t.kind === text(paramKind, 'kind'));
    if (type === undefined) return `paramKind ${apiVersion} ${text(paramKind, 'kind')} is not served`;
    const ref = bindingSpec.paramRef;
    // No paramRef: evaluated once, with params null.
    if (!isJsonObject(ref)) return { type, objects: [null] };
    const namespace = type.namespaced ? text(ref, 'namespace') || attrs.namespace : '';
    if (type.namespaced && namespace === '')
      return 'cannot use a namespaced paramRef without a namespace in a binding that matches a cluster-scoped request';
    const objects = this.#paramObjects(type, ref, namespace);
    if (objects.length > 0 || text(ref, 'parameterNotFoundAction') !== 'Deny') return { type, objects };
    return 'no params found for policy binding with `Deny` parameterNotFoundAction';
  }

  /** paramRef.name: that one object; else every object of the namespace its selector matches. */
  #paramObjects(type: ResourceType, ref: JsonObject, namespace: string): JsonObject[] {
    const name = text(ref, 'name');
    if (name !== '') {
      const object = this.#store.get(type.key, namespace, name);
      return object === undefined ? [] : [object];
    }
    const selector = labelSelectorOf(ref.selector);
    if (selector === null) return [];
    return this.#store
      .list(type.key, type.namespaced ? namespace : undefined)
      .filter(object => selectorMatches(selector, labelsOf(object)));
  }
}
