// The checks every write passes before it is stored: ObjectMeta validation, and for custom resources
// pruning + defaulting, openAPIV3Schema validation, then x-kubernetes-validations (CEL) rules.
import { badRequest, invalid, type StatusCause } from './api-error.ts';
import type { JsonObject } from './json.ts';
import { metadataCauses } from './object-meta.ts';
import type { ResourceType } from './resource-types.ts';
import { evaluateRules } from './schema/cel-rules.ts';
import { pruneAndDefault } from './schema/prune.ts';
import { validateAgainstSchema } from './schema/validate.ts';

/** The fieldValidation query parameter: what unknown fields cause (pruning happens in every mode). */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(value: string | null): FieldValidation {
  if (value === null || value === '' || value === 'Warn') return 'Warn';
  if (value === 'Strict' || value === 'Ignore') return value;
  throw badRequest(
    `fieldValidation: unsupported value "${value}": supported values: "Ignore", "Strict", "Warn"`,
  );
}

export interface AdmissionRequest {
  readonly type: ResourceType;
  readonly object: JsonObject;
  readonly old: Readonly<JsonObject> | undefined;
  readonly fieldValidation: FieldValidation;
}

export interface Admitted {
  readonly object: JsonObject;
  /** HTTP Warning header texts (unknown fields under fieldValidation=Warn). */
  readonly warnings: readonly string[];
}

function objectName(object: JsonObject): string {
  const metadata = object.metadata as JsonObject | undefined;
  const name = metadata?.name;
  return typeof name === 'string' ? name : '';
}

export function admit(request: AdmissionRequest): Admitted {
  const { type, fieldValidation } = request;
  const schema = type.schema;
  let object = request.object;
  const warnings: string[] = [];
  if (schema !== undefined) {
    const pruned = pruneAndDefault(schema, object);
    object = pruned.object;
    const unknown = pruned.pruned.map(path => `unknown field "${path}"`);
    if (fieldValidation === 'Strict' && unknown.length > 0)
      throw badRequest(
        `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.join(', ')}`,
      );
    if (fieldValidation === 'Warn') warnings.push(...unknown);
  }
  const schemaCauses = schema === undefined ? [] : validateAgainstSchema(schema, object);
  const causes = [...metadataCauses(type, object), ...ratchet(schemaCauses, object, request.old)];
  if (causes.length === 0 && schema !== undefined) {
    causes.push(...ratchet(evaluateRules(schema, object, request.old), object, request.old));
  }
  if (causes.length > 0) throw invalid(type, objectName(object), causes);
  return { object, warnings };
}

/**
 * CRD validation ratcheting (Kubernetes 1.30+, GA in 1.33): on an update, an error in a field whose value did not
 * change is not reported, so an object stored under an older, looser schema can still have its status written.
 */
function ratchet(
  causes: StatusCause[],
  object: JsonObject,
  old: Readonly<JsonObject> | undefined,
): StatusCause[] {
  if (old === undefined) return causes;
  return causes.filter(cause => {
    const path = cause.field ?? '';
    if (path === '') return true;
    return JSON.stringify(valueAt(object, path)) !== JSON.stringify(valueAt(old, path));
  });
}

function valueAt(root: unknown, fieldPath: string): unknown {
  let current: unknown = root;
  for (const part of fieldPath.split(/\.|\[|\]/).filter(p => p !== '')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[
      /^\d+$/.test(part) && Array.isArray(current) ? Number(part) : part
    ];
  }
  return current;
}
