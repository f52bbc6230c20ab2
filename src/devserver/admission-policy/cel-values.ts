// The values a policy's CEL expressions see: `object`, `oldObject`, `params`, `namespaceObject` and `request`.
// A real API server converts objects through their Go types, so a Node or Pod always has `spec` and `status`
// (Go structs are never omitted) and integer fields are CEL ints; the stored JSON here is converted the same way.
import type { CelInput } from '@bufbuild/cel';
import { userInfoJson } from '../authn/user-info.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { ResourceType } from '../resource-types.ts';
import { toCelInput } from '../schema/cel-rules.ts';
import type { AdmissionAttributes } from './attributes.ts';

/** Struct fields of the built-in kinds the dev server serves, present (possibly empty) in every object. */
const structFields: Readonly<Record<string, readonly string[]>> = {
  Namespace: ['spec', 'status'],
  Node: ['spec', 'status'],
  Pod: ['spec', 'status'],
  PodDisruptionBudget: ['spec', 'status'],
  Lease: ['spec'],
  ValidatingAdmissionPolicy: ['spec', 'status'],
  ValidatingAdmissionPolicyBinding: ['spec'],
};

/** JSON without a schema: whole numbers are CEL ints (Kubernetes' integer fields), objects CEL maps. */
function plainCel(value: JsonValue): CelInput {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(plainCel);
  return new Map(Object.entries(value).map(([key, child]) => [key, plainCel(child)]));
}

/** An object as the policy sees it: typed by its CRD schema, or by its built-in kind's always-present fields. */
export function objectCel(
  object: Readonly<JsonObject> | undefined,
  type: ResourceType | undefined,
): CelInput {
  if (object === undefined) return null;
  if (type?.schema !== undefined) return toCelInput(object, type.schema);
  const view: JsonObject = { ...object };
  const kind = typeof object.kind === 'string' ? object.kind : (type?.kind ?? '');
  for (const field of structFields[kind] ?? []) if (!isJsonObject(view[field])) view[field] = {};
  if (!isJsonObject(view.metadata)) view.metadata = {};
  return plainCel(view);
}

/** `request`: admission.k8s.io AdmissionRequest fields; subResource, name and namespace are absent when empty. */
export function requestCel(attrs: AdmissionAttributes, uid: string): CelInput {
  const request: JsonObject = {
    uid,
    kind: { ...attrs.kind },
    resource: { ...attrs.resource },
    requestKind: { ...attrs.kind },
    requestResource: { ...attrs.resource },
    operation: attrs.operation,
    userInfo: userInfoJson(attrs.user),
    dryRun: attrs.dryRun,
  };
  // Empty fields are left out (omitempty): has(request.namespace) is false on a cluster-scoped resource.
  if (attrs.name !== '') request.name = attrs.name;
  if (attrs.namespace !== '') request.namespace = attrs.namespace;
  if (attrs.subResource !== '') {
    request.subResource = attrs.subResource;
    request.requestSubResource = attrs.subResource;
  }
  return plainCel(request);
}
