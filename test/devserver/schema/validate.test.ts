import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/devserver/json.ts';
import type { CrdSchema } from '../../../src/devserver/schema/crd-schema.ts';
import { validateAgainstSchema } from '../../../src/devserver/schema/validate.ts';

const schema: CrdSchema = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 4, pattern: '^[a-z]+$' },
        count: { type: 'integer', minimum: 1, maximum: 3 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true },
        mode: { type: 'string', enum: ['a', 'b'] },
        maybe: { type: 'integer', nullable: true },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string' } },
        labels: { type: 'object', maxProperties: 2, additionalProperties: { type: 'string', maxLength: 3 } },
        conditions: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['type'],
          items: { type: 'object', properties: { type: { type: 'string' } } },
        },
      },
    },
  },
};

function fields(spec: JsonObject): string[] {
  return validateAgainstSchema(schema, { metadata: { name: 'x' }, spec }).map(
    c => `${c.reason} ${c.field ?? ''}`,
  );
}

describe('validateAgainstSchema', () => {
  it('accepts a valid object', () => {
    expect(
      fields({
        name: 'ab',
        count: 2,
        ratio: 0.5,
        mode: 'a',
        maybe: null,
        port: 'http',
        tags: ['x'],
        labels: { k: 'v' },
      }),
    ).toEqual([]);
    expect(fields({ name: 'ab', port: 80 })).toEqual([]);
  });

  it('checks required, type and integer-ness', () => {
    expect(fields({})).toEqual(['FieldValueRequired spec.name']);
    expect(fields({ name: 'ab', count: 1.5 })).toEqual(['FieldValueTypeInvalid spec.count']);
    expect(fields({ name: 'ab', count: '1' })).toEqual(['FieldValueTypeInvalid spec.count']);
    expect(fields({ name: 'ab', port: 1.5 })).toEqual(['FieldValueTypeInvalid spec.port']);
    expect(fields({ name: 'ab', count: null })).toEqual(['FieldValueInvalid spec.count']);
  });

  it('checks bounds, exclusive bounds, lengths, pattern and enum', () => {
    expect(fields({ name: 'ab', count: 0 })).toEqual(['FieldValueInvalid spec.count']);
    expect(fields({ name: 'ab', count: 4 })).toEqual(['FieldValueInvalid spec.count']);
    expect(fields({ name: 'ab', ratio: 0 })).toEqual(['FieldValueInvalid spec.ratio']);
    expect(fields({ name: 'ab', ratio: 1 })).toEqual(['FieldValueInvalid spec.ratio']);
    expect(fields({ name: 'a' })).toEqual(['FieldValueInvalid spec.name']);
    expect(fields({ name: 'abcde' })).toEqual(['FieldValueTooLong spec.name']);
    expect(fields({ name: 'AB' })).toEqual(['FieldValueInvalid spec.name']);
    expect(fields({ name: 'ab', mode: 'c' })).toEqual(['FieldValueNotSupported spec.mode']);
  });

  it('counts characters, not UTF-16 units', () => {
    const schemaWithRunes: CrdSchema = {
      type: 'object',
      properties: { s: { type: 'string', maxLength: 2 } },
    };
    expect(validateAgainstSchema(schemaWithRunes, { metadata: {}, s: '😀😀' })).toEqual([]);
  });

  it('checks items, maps and unique map-list keys', () => {
    expect(fields({ name: 'ab', tags: [] })).toEqual(['FieldValueInvalid spec.tags']);
    expect(fields({ name: 'ab', tags: ['a', 'b', 'c'] })).toEqual(['FieldValueTooMany spec.tags']);
    expect(fields({ name: 'ab', tags: [1] })).toEqual(['FieldValueTypeInvalid spec.tags[0]']);
    expect(fields({ name: 'ab', labels: { a: 'long' } })).toEqual(['FieldValueTooLong spec.labels[a]']);
    expect(fields({ name: 'ab', labels: { a: '1', b: '2', c: '3' } })).toEqual([
      'FieldValueTooMany spec.labels',
    ]);
    expect(fields({ name: 'ab', conditions: [{ type: 'A' }, { type: 'A' }] })).toEqual([
      'FieldValueDuplicate spec.conditions[1]',
    ]);
  });
});
