// ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) for the dev server: every binding whose policy
// matches a write evaluates the policy's matchConditions, variables and validations in CEL, once per parameter
// object when the policy has a paramKind, and a failed validation denies the write (validationActions Deny) or
// adds a warning (Warn). Follows k8s.io/apiserver/pkg/admission/plugin/policy/validating; what it leaves out
// (type checking into status, auditAnnotations, the `authorizer` variable) is listed in docs/devserver.md.
import { randomUUID } from 'node:crypto';
import { isCelError, type CelInput, type CelResult } from '@bufbuild/cel';
import type { LabelSelector } from '../../api/meta.ts';
import { selectorMatches } from '../../api/selector.ts';
import { ApiError, invalid, type StatusCause } from '../api-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { ResourceRegistry } from '../resource-registry.ts';
import type { ResourceType } from '../resource-types.ts';
import { compile } from '../schema/cel-rules.ts';
import { nameOf, type ObjectStore } from '../store.ts';
import type { AdmissionAttributes } from './attributes.ts';
import { objectCel, requestCel } from './cel-values.ts';
import { resourcesMatch } from './match.ts';

export const policyResource = 'validatingadmissionpolicies.admissionregistration.k8s.io';
export const bindingResource = 'validatingadmissionpolicybindings.admissionregistration.k8s.io';

const statusCodes: Readonly<Record<string, number>> = {
  Unauthorized: 401,
  Forbidden: 403,
  Invalid: 422,
  RequestEntityTooLarge: 413,
};

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

/** Whether every matchCondition holds; an error is a failure unless the failure policy ignores it. */
function conditionsHold(
  spec: JsonObject,
  activation: Record<string, CelInput>,
  fail: (expression: string, result: Outcome) => void,
): boolean {
  for (const condition of entries(spec, 'matchConditions')) {
    const expression = text(condition, 'expression');
    const result = run(expression, activation);
    if (!result.ok || typeof result.value !== 'boolean') {
      fail(expression, result);
      return false;
    }
    if (!result.value) return false;
  }
  return true;
}

/** The message of a failed validation: its messageExpression when that gives a non-blank string. */
function messageOf(validation: JsonObject, expression: string, activation: Record<string, CelInput>): string {
  const custom = text(validation, 'messageExpression');
  const computed = custom === '' ? undefined : run(custom, activation);
  if (computed?.ok === true && typeof computed.value === 'string' && computed.value.trim() !== '')
    return computed.value;
  return text(validation, 'message') || `failed expression: ${expression}`;
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
      failures.push({ message: `expression '${expression}' resulted in error: ${why}`, reason: 'Forbidden' });
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
          throw new ApiError(
            statusCodes[failure.reason] ?? 403,
            failure.reason,
            `${label} denied request: ${failure.message}`,
          );
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
    if (typeof params === 'string') return ignoreErrors ? [] : [{ message: params, reason: 'Forbidden' }];
    return params.objects.flatMap(param => evaluateWith(evaluation, objectCel(param, params.type)));
  }

  /** The parameter objects a binding names, or why there are none to evaluate with. */
  #params(
    paramKind: JsonObject,
    bindingSpec: JsonObject,
    attrs: AdmissionAttributes,
  ): { type: ResourceType; objects: JsonObject[] } | string {
    const apiVersion = text(paramKind, 'apiVersion');
    const slash = apiVersion.indexOf('/');
    const [group, version] =
      slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    const type = this.#registry.inGroupVersion(group, version).find(t => t.kind === text(paramKind, 'kind'));
    if (type === undefined) return `paramKind ${apiVersion} ${text(paramKind, 'kind')} is not served`;
    const ref = bindingSpec.paramRef;
    if (!isJsonObject(ref))
      return 'failed to configure binding: the policy has a paramKind and the binding no paramRef';
    const namespace = type.namespaced ? text(ref, 'namespace') || attrs.namespace : '';
    if (type.namespaced && namespace === '')
      return 'cannot use a namespaced paramRef without a namespace in a binding that matches a cluster-scoped request';
    const objects = this.#paramObjects(type, ref, namespace);
    if (objects.length > 0 || text(ref, 'parameterNotFoundAction') === 'Allow') return { type, objects };
    return 'no params found for policy binding with `Deny` parameterNotFoundAction';
  }

  /** paramRef.name: that one object; else every object of the namespace its selector matches. */
  #paramObjects(type: ResourceType, ref: JsonObject, namespace: string): JsonObject[] {
    const name = text(ref, 'name');
    if (name !== '') {
      const object = this.#store.get(type.key, namespace, name);
      return object === undefined ? [] : [object];
    }
    const selector = isJsonObject(ref.selector) ? (ref.selector as unknown as LabelSelector) : undefined;
    return this.#store
      .list(type.key, type.namespaced ? namespace : undefined)
      .filter(object => selectorMatches(selector, labelsOf(object)));
  }
}

function labelsOf(object: JsonObject): Record<string, string> {
  const labels = field(field(object, 'metadata'), 'labels');
  return Object.fromEntries(
    Object.entries(labels).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])),
  );
}

function expressionsOf(spec: JsonObject): { field: string; expression: string }[] {
  const out: { field: string; expression: string }[] = [];
  const collect = (list: string, keys: readonly string[]): void => {
    entries(spec, list).forEach((entry, index) => {
      for (const key of keys) {
        const expression: JsonValue | undefined = entry[key];
        if (typeof expression === 'string') out.push({ field: `spec.${list}[${index}].${key}`, expression });
      }
    });
  };
  collect('matchConditions', ['expression']);
  collect('variables', ['expression']);
  collect('validations', ['expression', 'messageExpression']);
  collect('auditAnnotations', ['valueExpression']);
  return out;
}

/** A policy whose expressions do not compile is refused when it is written, naming the field. */
export function checkPolicyCompiles(type: ResourceType, policy: JsonObject): void {
  const causes: StatusCause[] = [];
  for (const { field: path, expression } of expressionsOf(field(policy, 'spec'))) {
    try {
      compile(expression);
    } catch (error) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(expression)}: compilation failed: ${(error as Error).message}`,
        field: path,
      });
    }
  }
  if (causes.length > 0) throw invalid(type, nameOf(policy), causes);
}
