// LabelSelectors inside policies and bindings (namespaceSelector, objectSelector, paramRef.selector): checked
// when the object is written, so a malformed one is a 422 naming the field instead of an error on every request.
import type { LabelSelector } from '../../api/meta.ts';
import { isJsonObject, type JsonValue } from '../json.ts';

const operators = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function stringList(value: JsonValue | undefined): boolean {
  return value === undefined || (Array.isArray(value) && value.every(v => typeof v === 'string'));
}

function requirementProblem(requirement: JsonValue, where: string): string | undefined {
  if (!isJsonObject(requirement) || typeof requirement.key !== 'string')
    return `${where}: must be an object with a key`;
  if (typeof requirement.operator !== 'string' || !operators.has(requirement.operator))
    return `${where}.operator: must be In, NotIn, Exists or DoesNotExist`;
  return stringList(requirement.values) ? undefined : `${where}.values: must be a list of strings`;
}

/** What is wrong with a selector, or undefined when it is absent or well-formed. */
export function selectorProblem(value: JsonValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) return 'must be an object';
  const labels = value.matchLabels;
  if (
    labels !== undefined &&
    (!isJsonObject(labels) || !Object.values(labels).every(v => typeof v === 'string'))
  )
    return 'matchLabels: must map label keys to strings';
  const expressions = value.matchExpressions;
  if (expressions === undefined) return undefined;
  if (!Array.isArray(expressions)) return 'matchExpressions: must be a list';
  for (const [index, requirement] of expressions.entries()) {
    const problem = requirementProblem(requirement, `matchExpressions[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** The selector to match with: undefined when absent (everything), null when malformed (nothing). */
export function labelSelectorOf(value: JsonValue | undefined): LabelSelector | undefined | null {
  if (value === undefined || value === null) return undefined;
  return selectorProblem(value) === undefined ? (value as unknown as LabelSelector) : null;
}
