// Checks of ValidatingAdmissionPolicy and binding objects when they are written: every CEL expression must
// compile and every label selector must be well-formed, so a broken policy is a 422 naming the field rather
// than an error on every request it matches.
import { invalid, type StatusCause } from '../api-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { ResourceType } from '../resource-types.ts';
import { compile } from '../schema/cel-rules.ts';
import { nameOf } from '../store.ts';
import { selectorProblem } from './label-selector.ts';
import { bindingResource, policyResource } from './policy-admission.ts';

function objectAt(object: JsonObject, key: string): JsonObject {
  const value = object[key];
  return isJsonObject(value) ? value : {};
}

function expressionsOf(spec: JsonObject): { field: string; expression: string }[] {
  const out: { field: string; expression: string }[] = [];
  const collect = (list: string, keys: readonly string[]): void => {
    const value = spec[list];
    (Array.isArray(value) ? value : []).forEach((entry, index) => {
      if (!isJsonObject(entry)) return;
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

function compileCauses(spec: JsonObject): StatusCause[] {
  return expressionsOf(spec).flatMap(({ field, expression }) => {
    try {
      compile(expression);
      return [];
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(expression)}: compilation failed: ${why}`,
          field,
        },
      ];
    }
  });
}

function selectorCauses(owner: JsonObject, path: string): StatusCause[] {
  return ['namespaceSelector', 'objectSelector', 'selector'].flatMap(key => {
    const problem = selectorProblem(owner[key]);
    return problem === undefined
      ? []
      : [{ reason: 'FieldValueInvalid', message: `Invalid value: ${problem}`, field: `${path}.${key}` }];
  });
}

/** Refuses (422) a policy or binding that would fail on every request it matches. Other types pass. */
export function checkAdmissionObject(type: ResourceType, object: JsonObject): void {
  const spec = objectAt(object, 'spec');
  let causes: StatusCause[] = [];
  if (type.key === policyResource)
    causes = [
      ...compileCauses(spec),
      ...selectorCauses(objectAt(spec, 'matchConstraints'), 'spec.matchConstraints'),
    ];
  else if (type.key === bindingResource)
    causes = [
      ...selectorCauses(objectAt(spec, 'matchResources'), 'spec.matchResources'),
      ...selectorCauses(objectAt(spec, 'paramRef'), 'spec.paramRef'),
    ];
  if (causes.length > 0) throw invalid(type, nameOf(object), causes);
}
