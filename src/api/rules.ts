// Cross-field rules, written once: the CEL text goes into the CRD (x-kubernetes-validations) and the same
// predicate runs in zod, so `nodeqos validate`, the controller and the API server agree.
import type { z } from 'zod';

export interface CrossFieldRule<T> {
  /** CEL expression, evaluated by the API server against `self`. */
  readonly rule: string;
  readonly message: string;
  /** Field the failure is reported on, relative to `self` (CRD fieldPath form, e.g. ".lowRatio"). */
  readonly fieldPath: string;
  readonly holds: (self: T) => boolean;
}

/** Attaches rules to an object schema: CRD metadata for the generator, refinements for zod. */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly CrossFieldRule<z.output<S>>[]): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (!rule.holds(value)) {
        ctx.addIssue({ code: 'custom', message: rule.message, path: fieldPathToSegments(rule.fieldPath) });
      }
    }
  });
  return refined.meta({
    'x-kubernetes-validations': rules.map(({ rule, message, fieldPath }) => ({
      rule,
      message,
      fieldPath,
      reason: 'FieldValueInvalid',
    })),
  });
}

function fieldPathToSegments(fieldPath: string): (string | number)[] {
  return fieldPath
    .split(/\.|\[|\]/)
    .filter(part => part !== '')
    .map(part => (/^[0-9]+$/.test(part) ? Number(part) : part));
}
