// What the dev server knows about each resource it serves: names, scope, status subresource, schema.
import type { CrdSchema } from './schema/crd-schema.ts';

export interface ResourceType {
  /** kubectl-style key, also the store bucket: `pods`, `leases.coordination.k8s.io`. */
  readonly key: string;
  /** A Kubernetes type (core, coordination, events) rather than a custom resource. */
  readonly builtin: boolean;
  /** Nothing is stored: create only, answered from the request itself (selfsubjectreviews). */
  readonly virtual: boolean;
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly statusSubresource: boolean;
  /** Create keeps `.status` (nodes: the kubelet registers with status) instead of dropping it. */
  readonly createKeepsStatus: boolean;
  /** A PUT without metadata.resourceVersion is accepted (core types) or rejected (custom resources). */
  readonly allowUnconditionalUpdate: boolean;
  /** Strategic merge patch is accepted (built-in types only, as on a real API server). */
  readonly strategicMergePatch: boolean;
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  readonly extraFieldLabels: readonly string[];
  /** List items carry apiVersion/kind (custom resources) or not (built-in types, as a real server sends them). */
  readonly listItemsCarryTypeMeta: boolean;
  /** openAPIV3Schema of a custom resource; built-in types are not schema-checked. */
  readonly schema: CrdSchema | undefined;
  /** A CRD version's additionalPrinterColumns (Table responses); undefined for built-in types. */
  readonly printerColumns: readonly PrinterColumn[] | undefined;
}

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description?: string | undefined;
  readonly format?: string | undefined;
  readonly priority?: number | undefined;
}

export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function resourceKey(group: string, plural: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

interface BuiltinSpec {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  status?: boolean;
  createKeepsStatus?: boolean;
  fieldLabels?: string[];
  virtual?: boolean;
}

function builtin(spec: BuiltinSpec): ResourceType {
  return {
    key: resourceKey(spec.group, spec.plural),
    builtin: true,
    virtual: spec.virtual ?? false,
    group: spec.group,
    version: spec.version,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    namespaced: spec.namespaced,
    shortNames: spec.shortNames ?? [],
    categories: [],
    statusSubresource: spec.status ?? false,
    createKeepsStatus: spec.createKeepsStatus ?? true,
    allowUnconditionalUpdate: true,
    strategicMergePatch: true,
    extraFieldLabels: spec.fieldLabels ?? [],
    listItemsCarryTypeMeta: false,
    schema: undefined,
    printerColumns: undefined,
  };
}

/** The built-in resources nodeqos talks to. */
export function builtinResourceTypes(): ResourceType[] {
  return [
    builtin({
      group: '',
      version: 'v1',
      plural: 'namespaces',
      kind: 'Namespace',
      namespaced: false,
      shortNames: ['ns'],
      status: true,
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'nodes',
      kind: 'Node',
      namespaced: false,
      shortNames: ['no'],
      status: true,
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'pods',
      kind: 'Pod',
      namespaced: true,
      shortNames: ['po'],
      status: true,
      fieldLabels: ['spec.nodeName', 'status.phase'],
    }),
    builtin({
      group: '',
      version: 'v1',
      plural: 'events',
      kind: 'Event',
      namespaced: true,
      shortNames: ['ev'],
    }),
    builtin({
      group: 'events.k8s.io',
      version: 'v1',
      plural: 'events',
      kind: 'Event',
      namespaced: true,
      shortNames: ['ev'],
    }),
    builtin({
      group: 'policy',
      version: 'v1',
      plural: 'poddisruptionbudgets',
      kind: 'PodDisruptionBudget',
      namespaced: true,
      shortNames: ['pdb'],
      status: true,
    }),
    builtin({
      group: 'coordination.k8s.io',
      version: 'v1',
      plural: 'leases',
      kind: 'Lease',
      namespaced: true,
    }),
    // Identities and their tokens (serviceaccounts/token, TokenRequest), and who a token is (SelfSubjectReview).
    builtin({
      group: '',
      version: 'v1',
      plural: 'serviceaccounts',
      kind: 'ServiceAccount',
      namespaced: true,
      shortNames: ['sa'],
    }),
    builtin({
      group: 'authentication.k8s.io',
      version: 'v1',
      plural: 'selfsubjectreviews',
      kind: 'SelfSubjectReview',
      namespaced: false,
      virtual: true,
    }),
    // Admission policies the server evaluates on every write (admission-policy/policy-admission.ts).
    builtin({
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      plural: 'validatingadmissionpolicies',
      kind: 'ValidatingAdmissionPolicy',
      namespaced: false,
      status: true,
    }),
    builtin({
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      plural: 'validatingadmissionpolicybindings',
      kind: 'ValidatingAdmissionPolicyBinding',
      namespaced: false,
    }),
  ];
}
