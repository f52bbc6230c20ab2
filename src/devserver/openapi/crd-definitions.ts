// The OpenAPI definitions of a custom resource, built as kube-apiserver builds them
// (k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder/builder.go, buildKubeNative and
// buildListSchema): the CRD's openAPIV3Schema with apiVersion, kind and metadata replaced by the TypeMeta and
// ObjectMeta ones and an x-kubernetes-group-version-kind list; for v2, first reduced as
// k8s.io/apiextensions-apiserver/pkg/controller/openapi/v2/conversion.go does (no junctors, nullable fields
// untyped and no longer required, preserve-unknown-fields nodes opened up).
import { cloneJson, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import type { ResourceType } from '../resource-types.ts';
import { definitionName, metaPrefix } from './names.ts';

export type OpenApiVersion = 'v2' | 'v3';

export function refTo(name: string, version: OpenApiVersion): string {
  return version === 'v2' ? `#/definitions/${name}` : `#/components/schemas/${name}`;
}

/** A reference with a description: v3 forbids siblings of $ref, so kube-openapi wraps it in allOf. */
export function describedRef(name: string, description: string, version: OpenApiVersion): JsonObject {
  if (version === 'v2') return { $ref: refTo(name, version), description };
  return { description, allOf: [{ $ref: refTo(name, version) }] };
}

const objectMetaDescription =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const listMetaDescription =
  'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const apiVersionDescription =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const kindDescription =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

function setTypeMeta(schema: JsonObject): void {
  const properties = isJsonObject(schema.properties) ? schema.properties : {};
  properties.apiVersion = { type: 'string', description: apiVersionDescription };
  properties.kind = { type: 'string', description: kindDescription };
  schema.properties = properties;
}

/** openapi/v2/conversion.go ToStructuralOpenAPIV2, on a plain schema tree. */
function toV2(node: JsonValue): void {
  if (!isJsonObject(node)) return;
  dropV3Only(node);
  dropNullableRequired(node);
  const properties = isJsonObject(node.properties) ? node.properties : {};
  for (const child of Object.values(properties)) toV2(child);
  if (isJsonObject(node.items)) toV2(node.items);
  if (isJsonObject(node.additionalProperties)) toV2(node.additionalProperties);
}

/** Junctors, nullable (the node becomes untyped), and the shapes kubectl's v2 parser cannot take. */
function dropV3Only(node: JsonObject): void {
  for (const junctor of ['allOf', 'oneOf', 'anyOf', 'not']) Reflect.deleteProperty(node, junctor);
  if (node.nullable === true) {
    for (const key of ['type', 'nullable', 'items', 'properties']) Reflect.deleteProperty(node, key);
  } else Reflect.deleteProperty(node, 'nullable');
  if (node['x-kubernetes-preserve-unknown-fields'] === true) {
    Reflect.deleteProperty(node, 'items');
    Reflect.deleteProperty(node, 'properties');
    if (node.type === 'object') Reflect.deleteProperty(node, 'type');
  }
  if (node.type === 'array' && node.items === undefined) Reflect.deleteProperty(node, 'type');
}

/** A nullable property is no longer required (v2 cannot say "present but null"). */
function dropNullableRequired(node: JsonObject): void {
  const properties = isJsonObject(node.properties) ? node.properties : {};
  if (Array.isArray(node.required)) {
    const required = node.required.filter(
      f => !(typeof f === 'string' && isJsonObject(properties[f]) && properties[f].nullable === true),
    );
    if (required.length === 0) Reflect.deleteProperty(node, 'required');
    else node.required = required;
  }
  if (isJsonObject(node.additionalProperties) && node.additionalProperties.nullable === true)
    Reflect.deleteProperty(node, 'required');
}

/** The kind and list definitions of one served CRD version. */
export function crdDefinitions(type: ResourceType, version: OpenApiVersion): Record<string, JsonObject> {
  const gvk = (kind: string): JsonObject[] => [{ group: type.group, kind, version: type.version }];
  const kindName = definitionName(type);
  const kind: JsonObject =
    type.schema === undefined ? { type: 'object' } : cloneJson(type.schema as JsonObject);
  if (type.schema !== undefined) {
    if (version === 'v2') toV2(kind);
    const properties = isJsonObject(kind.properties) ? kind.properties : {};
    properties.metadata = describedRef(`${metaPrefix}.ObjectMeta`, objectMetaDescription, version);
    kind.properties = properties;
    setTypeMeta(kind);
  }
  kind['x-kubernetes-group-version-kind'] = gvk(type.kind);
  const list: JsonObject = {
    description: `${type.listKind} is a list of ${type.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      items: {
        description: `List of ${type.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`,
        type: 'array',
        items: { $ref: refTo(kindName, version) },
      },
      metadata: describedRef(`${metaPrefix}.ListMeta`, listMetaDescription, version),
    },
    'x-kubernetes-group-version-kind': gvk(type.listKind),
  };
  setTypeMeta(list);
  return { [kindName]: kind, [definitionName(type, type.listKind)]: list };
}
