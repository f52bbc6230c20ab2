// CustomResourceDefinitions generated from the zod schemas (the single source of truth).
import { z } from 'zod';
import { apiGroup, apiVersionName } from './group.ts';
import { planSpecSchema, planStatusSchema } from './plan.ts';
import { policySpecSchema, policyStatusSchema } from './policy.ts';

type JsonSchema = Record<string, unknown>;

const droppedKeys = new Set(['$schema', 'additionalProperties:false', 'id']);

/** Rewrites zod's OpenAPI 3.0 output into a structural CRD schema the API server accepts. */
export function toStructural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toStructural);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema as JsonSchema)) {
    if (droppedKeys.has(key) || (key === 'additionalProperties' && value === false)) continue;
    // zod bounds every int by the JS safe range; the API server's int64 needs no such noise.
    if ((key === 'minimum' || key === 'maximum') && Math.abs(value as number) === Number.MAX_SAFE_INTEGER)
      continue;
    out[key] = key === 'properties' ? mapValues(value as JsonSchema) : toStructural(value);
  }
  return out;
}

function mapValues(properties: JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, toStructural(v)]));
}

function openApi(schema: z.ZodType): JsonSchema {
  return toStructural(
    z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }),
  ) as JsonSchema;
}

interface CrdOptions {
  kind: string;
  plural: string;
  singular: string;
  shortName: string;
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: { name: string; type: string; jsonPath: string; description: string; priority?: number }[];
}

function crd(options: CrdOptions): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${options.plural}.${apiGroup}` },
    spec: {
      group: apiGroup,
      names: {
        kind: options.kind,
        listKind: `${options.kind}List`,
        plural: options.plural,
        singular: options.singular,
        shortNames: [options.shortName],
        categories: ['nodeqos'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: apiVersionName,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: options.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: options.description,
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'APIVersion of this object (nodeqos.io/v1alpha1).',
                },
                kind: { type: 'string', description: `Kind of this object (${options.kind}).` },
                metadata: { type: 'object' },
                spec: openApi(options.spec),
                status: openApi(options.status),
              },
            },
          },
        },
      ],
    },
  };
}

const readyStatus = '.status.conditions[?(@.type=="Ready")].status';

export const policyCrd = (): JsonSchema =>
  crd({
    kind: 'NodeQoSPolicy',
    plural: 'nodeqospolicies',
    singular: 'nodeqospolicy',
    shortName: 'nqp',
    description:
      'NodeQoSPolicy selects nodes and sets the isolation parameters (CPU, memory, OOM, block I/O, network) of each QoS class (LSE, LSR, LS, BE) on them.',
    spec: policySpecSchema,
    status: policyStatusSchema,
    columns: [
      {
        name: 'Priority',
        type: 'integer',
        jsonPath: '.spec.priority',
        description: 'Higher wins on overlap.',
      },
      {
        name: 'Matched',
        type: 'integer',
        jsonPath: '.status.matchedNodes',
        description: 'Nodes governed by this policy.',
      },
      {
        name: 'Ready',
        type: 'string',
        jsonPath: readyStatus,
        description: 'Whether the policy is in effect.',
      },
      {
        name: 'Status',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Ready")].message',
        description: 'Ready message.',
        priority: 1,
      },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age.' },
    ],
  });

export const planCrd = (): JsonSchema =>
  crd({
    kind: 'NodeIsolationPlan',
    plural: 'nodeisolationplans',
    singular: 'nodeisolationplan',
    shortName: 'nip',
    description:
      'NodeIsolationPlan is what one node (same name) must enforce: per-pod CPU, memory, OOM, block I/O and network values and the BE suppress curve. Written by the controller; the node agent applies it and reports in status.',
    spec: planSpecSchema,
    status: planStatusSchema,
    columns: [
      {
        name: 'Policy',
        type: 'string',
        jsonPath: '.spec.policyName',
        description: 'Policy the plan comes from.',
      },
      { name: 'Pods', type: 'integer', jsonPath: '.spec.podCount', description: 'Pods in the plan.' },
      {
        name: 'BE-Quota',
        type: 'integer',
        jsonPath: '.status.beQuotaUs',
        description: 'BE tier CFS quota (us).',
      },
      {
        name: 'Pressure',
        type: 'number',
        jsonPath: '.status.pressure',
        description: 'Node CPU pressure (%).',
      },
      {
        name: 'Applied',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Applied")].status',
        description: 'Whether the agent applied the current plan.',
      },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age.' },
    ],
  });

export const allCrds = (): { file: string; crd: JsonSchema }[] => [
  { file: `${apiGroup}_nodeqospolicies.yaml`, crd: policyCrd() },
  { file: `${apiGroup}_nodeisolationplans.yaml`, crd: planCrd() },
];
