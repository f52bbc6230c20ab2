// Offline validation of rendered manifests:
// - kubernetes-models (JSON schemas generated from the Kubernetes OpenAPI): types, formats, required fields;
// - unknown fields (which those schemas let through) against @kubernetes/client-node's generated models
//   (OpenAPI release-1.36), the way `kubectl apply --validate=strict` would reject them;
// - our custom resources against the openAPIV3Schema of the generated CRDs, with the API server's pruning of
//   unknown fields turned into errors.
import * as clientNode from '@kubernetes/client-node';
import { Ajv, type ValidateFunction } from 'ajv';
import * as argoV1alpha1 from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import * as fluxHelmV2 from '@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2';
import * as fluxKustomizeV1 from '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1';
import * as fluxSourceV1 from '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as admissionV1 from 'kubernetes-models/admissionregistration.k8s.io/v1';
import * as apiextensionsV1 from 'kubernetes-models/apiextensions.k8s.io/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as rbacV1 from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Manifest } from './helm.ts';

type ModelClass = new (data: unknown) => { validate(): void };

const modelModules: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'policy/v1': policyV1,
  'rbac.authorization.k8s.io/v1': rbacV1,
  'apiextensions.k8s.io/v1': apiextensionsV1,
  'admissionregistration.k8s.io/v1': admissionV1,
  'monitoring.coreos.com/v1': monitoringV1,
  'argoproj.io/v1alpha1': argoV1alpha1,
  'kustomize.toolkit.fluxcd.io/v1': fluxKustomizeV1,
  'helm.toolkit.fluxcd.io/v2': fluxHelmV2,
  'source.toolkit.fluxcd.io/v1': fluxSourceV1,
};

/** API groups whose models @kubernetes/client-node names V1<Kind>, used for the unknown-field check. */
const builtInGroups = new Set([
  'v1',
  'apps/v1',
  'policy/v1',
  'rbac.authorization.k8s.io/v1',
  'apiextensions.k8s.io/v1',
  'admissionregistration.k8s.io/v1',
]);

function modelFor(manifest: Manifest): ModelClass {
  const model = modelModules[manifest.apiVersion]?.[manifest.kind];
  if (typeof model !== 'function') {
    throw new Error(
      `no schema for ${manifest.apiVersion} ${manifest.kind}: add its kubernetes-models module`,
    );
  }
  return model as ModelClass;
}

interface Attribute {
  baseName: string;
  type: string;
}

const opaqueTypes = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

function attributesOf(type: string): Attribute[] {
  const model = (clientNode as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>)[
    type
  ];
  if (model?.attributeTypeMap === undefined) throw new Error(`@kubernetes/client-node has no model ${type}`);
  return model.attributeTypeMap;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownFieldsIn(value: unknown, type: string, path: string, found: string[]): void {
  if (opaqueTypes.has(type) || value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value))
      value.forEach((item, i) => unknownFieldsIn(item, array[1]!, `${path}[${i}]`, found));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isRecord(value))
      for (const [k, v] of Object.entries(value)) unknownFieldsIn(v, map[1]!, `${path}.${k}`, found);
    return;
  }
  if (!isRecord(value)) return; // a type error, which the JSON schema check reports
  const attributes = attributesOf(type);
  for (const [key, child] of Object.entries(value)) {
    const attribute = attributes.find(a => a.baseName === key);
    if (attribute === undefined) found.push(`${path}.${key}: unknown field`);
    else unknownFieldsIn(child, attribute.type, `${path}.${key}`, found);
  }
}

/** Fields a strict API server would reject as unknown; empty for kinds outside the built-in groups. */
export function unknownFields(manifest: Manifest): string[] {
  if (!builtInGroups.has(manifest.apiVersion)) return [];
  const found: string[] = [];
  unknownFieldsIn(manifest, `V1${manifest.kind}`, manifest.kind, found);
  return found;
}

/** Every problem with one manifest: schema violations and unknown fields. */
export function validateManifest(manifest: Manifest): string[] {
  const problems: string[] = [];
  try {
    new (modelFor(manifest))(manifest).validate();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  problems.push(...unknownFields(manifest));
  return problems.map(p => `${manifest.kind}/${manifest.metadata.name}: ${p}`);
}

type Schema = Record<string, unknown>;

/** The API server prunes fields a structural schema does not declare; here that is an error instead. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!isRecord(schema)) return schema;
  const mapped: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    mapped[key] = key === 'properties' && isRecord(value) ? mapValues(value) : closeObjects(value);
  }
  const out = withoutUndefined(openApiExclusiveBounds(mapped));
  const open = 'additionalProperties' in out || out['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.type === 'object' && isRecord(out.properties) && !open) out.additionalProperties = false;
  return out;
}

/** OpenAPI 3.0 writes `minimum: 0, exclusiveMinimum: true`; JSON Schema draft 7 writes `exclusiveMinimum: 0`. */
function openApiExclusiveBounds(schema: Schema): Schema {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, ...rest } = schema;
  return {
    ...rest,
    ...(exclusiveMinimum === true ? { exclusiveMinimum: minimum } : { minimum, exclusiveMinimum }),
    ...(exclusiveMaximum === true ? { exclusiveMaximum: maximum } : { maximum, exclusiveMaximum }),
  };
}

function withoutUndefined(schema: Schema): Schema {
  return Object.fromEntries(Object.entries(schema).filter(([, v]) => v !== undefined));
}

function mapValues(properties: Schema): Schema {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, closeObjects(v)]));
}

const kubernetesKeywords = [
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
];

export interface CustomResourceValidator {
  kind: string;
  apiVersion: string;
  validate(manifest: Manifest): string[];
}

/** A validator for the custom resources of one generated CRD file (served version). */
export function crdValidator(crdFile: string): CustomResourceValidator {
  const crd = parse(readFileSync(crdFile, 'utf8')) as {
    spec: {
      group: string;
      names: { kind: string };
      versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
    };
  };
  const version = crd.spec.versions[0];
  if (version === undefined) throw new Error(`${crdFile} has no versions`);
  const ajv = new Ajv({ allErrors: true, strict: true, validateFormats: false });
  for (const keyword of kubernetesKeywords) ajv.addKeyword(keyword);
  const check: ValidateFunction = ajv.compile(closeObjects(version.schema.openAPIV3Schema) as Schema);
  const apiVersion = `${crd.spec.group}/${version.name}`;
  return {
    kind: crd.spec.names.kind,
    apiVersion,
    validate(manifest: Manifest): string[] {
      const where = `${manifest.kind}/${manifest.metadata.name}`;
      if (manifest.apiVersion !== apiVersion || manifest.kind !== crd.spec.names.kind) {
        return [`${where}: not a ${crd.spec.names.kind} of ${apiVersion}`];
      }
      if (check(manifest)) return [];
      return (check.errors ?? []).map(e => {
        const extra = 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : '';
        return `${where}: ${e.instancePath || '/'} ${e.message ?? ''}${extra}`;
      });
    },
  };
}
