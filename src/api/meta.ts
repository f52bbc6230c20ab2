// Shared Kubernetes shapes: object metadata (the part nodeqos reads), LabelSelector, metav1.Condition.
import { z } from 'zod';
import { withRules } from './rules.ts';

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const objectNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(dnsSubdomain, 'must be a lowercase DNS subdomain (a-z, 0-9, "-", ".")');

export const objectMetaSchema = z.object({
  name: objectNameSchema,
  namespace: z.string().max(63).optional(),
  uid: z.string().max(128).optional(),
  resourceVersion: z.string().max(128).optional(),
  generation: z.int().min(0).optional(),
  creationTimestamp: z.string().max(64).optional(),
  labels: z.record(z.string().max(317), z.string().max(63)).optional(),
  annotations: z.record(z.string().max(317), z.string()).optional(),
});

const requirementShape = z.object({
  key: z.string().min(1).max(317).describe('The label key the selector applies to.'),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the key relates to the values.'),
  values: z
    .array(z.string().max(63))
    .max(256)
    .optional()
    .describe('Values for In and NotIn (non-empty); must be empty for Exists and DoesNotExist.'),
});

export const labelSelectorRequirementSchema = withRules(requirementShape, [
  {
    rule: "self.operator in ['Exists', 'DoesNotExist'] ? (!has(self.values) || size(self.values) == 0) : (has(self.values) && size(self.values) > 0)",
    message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
    fieldPath: '.values',
    holds: self =>
      self.operator === 'Exists' || self.operator === 'DoesNotExist'
        ? (self.values ?? []).length === 0
        : (self.values ?? []).length > 0,
  },
]);

export const labelSelectorSchema = z
  .object({
    matchLabels: z
      .record(z.string().max(317), z.string().max(63))
      .optional()
      .describe('Labels a node must carry with exactly these values.'),
    matchExpressions: z
      .array(labelSelectorRequirementSchema)
      .max(64)
      .optional()
      .describe('Set-based requirements; all must hold.'),
  })
  .describe('Which nodes the policy applies to. An empty selector matches every node.');

export type LabelSelector = z.infer<typeof labelSelectorSchema>;

export const conditionSchema = z.object({
  type: z
    .string()
    .max(316)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
    )
    .describe('Condition type, e.g. Ready, Conflict, Applied, Degraded.'),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.int().min(0).optional(),
  lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe('CamelCase reason for the last transition.'),
  message: z.string().max(32768).describe('Human-readable details.'),
});

export type Condition = z.infer<typeof conditionSchema>;

export const conditionsSchema = z
  .array(conditionSchema)
  .max(16)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
