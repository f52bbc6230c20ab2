// The subset of apiextensions.k8s.io/v1 JSONSchemaProps the dev server validates and prunes with.
import { z } from 'zod';
import type { JsonValue } from '../json.ts';

export interface ValidationRule {
  readonly rule: string;
  readonly message?: string | undefined;
  readonly messageExpression?: string | undefined;
  readonly reason?: string | undefined;
  readonly fieldPath?: string | undefined;
  readonly optionalOldSelf?: boolean | undefined;
}

export interface CrdSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | undefined;
  readonly properties?: Readonly<Record<string, CrdSchema>> | undefined;
  readonly additionalProperties?: CrdSchema | boolean | undefined;
  readonly items?: CrdSchema | undefined;
  readonly required?: readonly string[] | undefined;
  readonly enum?: readonly JsonValue[] | undefined;
  readonly minimum?: number | undefined;
  readonly maximum?: number | undefined;
  readonly exclusiveMinimum?: boolean | undefined;
  readonly exclusiveMaximum?: boolean | undefined;
  readonly minLength?: number | undefined;
  readonly maxLength?: number | undefined;
  readonly pattern?: string | undefined;
  readonly minItems?: number | undefined;
  readonly maxItems?: number | undefined;
  readonly minProperties?: number | undefined;
  readonly maxProperties?: number | undefined;
  readonly nullable?: boolean | undefined;
  readonly default?: JsonValue | undefined;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean | undefined;
  readonly 'x-kubernetes-int-or-string'?: boolean | undefined;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map' | undefined;
  readonly 'x-kubernetes-list-map-keys'?: readonly string[] | undefined;
  readonly 'x-kubernetes-validations'?: readonly ValidationRule[] | undefined;
}

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const validationRule = z.object({
  rule: z.string().min(1),
  message: z.string().optional(),
  messageExpression: z.string().optional(),
  reason: z
    .enum(['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'])
    .optional(),
  fieldPath: z.string().optional(),
  optionalOldSelf: z.boolean().optional(),
});

export const crdSchemaSchema: z.ZodType<CrdSchema> = z.lazy(() =>
  z.looseObject({
    type: z.enum(['object', 'array', 'string', 'integer', 'number', 'boolean']).optional(),
    properties: z.record(z.string(), crdSchemaSchema).optional(),
    additionalProperties: z.union([crdSchemaSchema, z.boolean()]).optional(),
    items: crdSchemaSchema.optional(),
    required: z.array(z.string()).optional(),
    enum: z.array(jsonValue).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    exclusiveMinimum: z.boolean().optional(),
    exclusiveMaximum: z.boolean().optional(),
    minLength: z.int().min(0).optional(),
    maxLength: z.int().min(0).optional(),
    pattern: z.string().optional(),
    minItems: z.int().min(0).optional(),
    maxItems: z.int().min(0).optional(),
    minProperties: z.int().min(0).optional(),
    maxProperties: z.int().min(0).optional(),
    nullable: z.boolean().optional(),
    default: jsonValue.optional(),
    'x-kubernetes-preserve-unknown-fields': z.boolean().optional(),
    'x-kubernetes-int-or-string': z.boolean().optional(),
    'x-kubernetes-list-type': z.enum(['atomic', 'set', 'map']).optional(),
    'x-kubernetes-list-map-keys': z.array(z.string()).optional(),
    'x-kubernetes-validations': z.array(validationRule).optional(),
  }),
);

/** The schema of a child: a declared property first, then additionalProperties (maps). */
export function propertySchema(schema: CrdSchema | undefined, name: string): CrdSchema | undefined {
  if (schema === undefined) return undefined;
  const declared = schema.properties?.[name];
  if (declared !== undefined) return declared;
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

/** Keys of a `x-kubernetes-list-type: map` list, or undefined for atomic and set lists. */
export function listMapKeys(schema: CrdSchema | undefined): readonly string[] | undefined {
  if (schema?.['x-kubernetes-list-type'] !== 'map') return undefined;
  const keys = schema['x-kubernetes-list-map-keys'];
  return keys !== undefined && keys.length > 0 ? keys : undefined;
}
