// Request-side object checks and shaping shared by create, update, patch and apply: type meta, name and
// namespace against the URL, generateName, server-owned metadata, and ObjectMeta validation.
import { randomInt } from 'node:crypto';
import { badRequest, type StatusCause } from './api-error.ts';
import { isJsonObject, jsonText, removeKey, type JsonObject, type JsonValue } from './json.ts';
import { apiVersionOf, type ResourceType } from './resource-types.ts';

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedName =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const serverOwned = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
];

/** Where a request points: the URL's namespace and name (undefined for collections). */
export interface UrlObject {
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

export function requireObject(body: JsonValue, what: string): JsonObject {
  if (!isJsonObject(body)) throw badRequest(`${what}: the request body must be a JSON object`);
  return body;
}

export function metadataField(object: JsonObject): JsonObject {
  const metadata = object.metadata;
  if (metadata === undefined || metadata === null) return (object.metadata = {});
  if (!isJsonObject(metadata)) throw badRequest('metadata must be an object');
  return metadata;
}

/** Checks apiVersion/kind against the endpoint and fills them in when absent. */
export function checkTypeMeta(type: ResourceType, object: JsonObject): void {
  const expectedVersion = apiVersionOf(type);
  const apiVersion = object.apiVersion;
  if (apiVersion !== undefined && apiVersion !== expectedVersion) {
    throw badRequest(
      `the API version in the data (${jsonText(apiVersion)}) does not match the expected API version (${expectedVersion})`,
    );
  }
  const kind = object.kind;
  if (kind !== undefined && kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${jsonText(kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  object.apiVersion = expectedVersion;
  object.kind = type.kind;
}

/** Puts the URL's namespace on the object (namespaced types) or clears it (cluster-scoped types). */
export function checkNamespace(type: ResourceType, metadata: JsonObject, url: UrlObject): void {
  if (!type.namespaced) {
    delete metadata.namespace;
    return;
  }
  const namespace = metadata.namespace;
  if (namespace !== undefined && namespace !== '' && namespace !== url.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  metadata.namespace = url.namespace ?? '';
}

export function checkName(metadata: JsonObject, url: UrlObject): void {
  const name = metadata.name;
  if (url.name === undefined) return;
  if (name !== undefined && name !== '' && name !== url.name) {
    throw badRequest(
      `the name of the object (${jsonText(name)}) does not match the name on the URL (${url.name})`,
    );
  }
  metadata.name = url.name;
}

const generatedAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function generatedSuffix(): string {
  return Array.from({ length: 5 }, () => generatedAlphabet[randomInt(generatedAlphabet.length)]).join('');
}

/** Shapes a create request's object: type meta, namespace, generateName, server-owned fields, status. */
export function prepareForCreate(type: ResourceType, body: JsonValue, url: UrlObject): JsonObject {
  const object = requireObject(body, 'create');
  checkTypeMeta(type, object);
  const metadata = metadataField(object);
  if (typeof metadata.resourceVersion === 'string' && metadata.resourceVersion !== '') {
    throw badRequest('resourceVersion should not be set on objects to be created');
  }
  checkNamespace(type, metadata, url);
  const generateName = metadata.generateName;
  if (
    (metadata.name === undefined || metadata.name === '') &&
    typeof generateName === 'string' &&
    generateName !== ''
  ) {
    metadata.name = `${generateName}${generatedSuffix()}`;
  }
  for (const field of serverOwned) removeKey(metadata, field);
  if (type.statusSubresource && !type.createKeepsStatus) delete object.status;
  if (type.key === 'namespaces' && object.status === undefined) object.status = { phase: 'Active' };
  return object;
}

function checkStringMap(metadata: JsonObject, field: 'labels' | 'annotations', causes: StatusCause[]): void {
  const map = metadata[field];
  if (map === undefined) return;
  if (!isJsonObject(map)) {
    causes.push({
      reason: 'FieldValueTypeInvalid',
      message: 'must be a map of strings',
      field: `metadata.${field}`,
    });
    return;
  }
  for (const [key, value] of Object.entries(map)) {
    const path = `metadata.${field}`;
    if (!qualifiedName.test(key) || key.length > 317) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.'`,
        field: path,
      });
    }
    if (typeof value !== 'string') {
      causes.push({
        reason: 'FieldValueTypeInvalid',
        message: `Invalid value: ${JSON.stringify(key)}: must be a string`,
        field: `${path}.${key}`,
      });
    } else if (field === 'labels' && (value.length > 63 || !labelValue.test(value))) {
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(value)}: a valid label must be 63 characters or less, alphanumeric, '-', '_' or '.'`,
        field: `${path}.${key}`,
      });
    }
  }
}

/** ObjectMeta validation: name (and namespace name) format, labels and annotations. */
export function metadataCauses(type: ResourceType, object: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const metadata = metadataField(object);
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    causes.push({
      reason: 'FieldValueRequired',
      message: 'Required value: name or generateName is required',
      field: 'metadata.name',
    });
  } else {
    const label = type.key === 'namespaces';
    const valid = label
      ? dnsLabel.test(name) && name.length <= 63
      : dnsSubdomain.test(name) && name.length <= 253;
    if (!valid) {
      const rule = label ? 'a lowercase RFC 1123 label' : 'a lowercase RFC 1123 subdomain';
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(name)}: must be ${rule}`,
        field: 'metadata.name',
      });
    }
  }
  if (type.namespaced && (typeof metadata.namespace !== 'string' || metadata.namespace === '')) {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'metadata.namespace' });
  }
  checkStringMap(metadata, 'labels', causes);
  checkStringMap(metadata, 'annotations', causes);
  return causes;
}

/** An object's labels with string values (what a LabelSelector is matched against); none when absent. */
export function labelsOf(object: Readonly<JsonObject> | undefined): Record<string, string> {
  const metadata = object?.metadata;
  const labels = isJsonObject(metadata) ? metadata.labels : undefined;
  if (!isJsonObject(labels)) return {};
  return Object.fromEntries(
    Object.entries(labels).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])),
  );
}
