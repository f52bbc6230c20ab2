import { describe, expect, it } from 'vitest';
import type { CrdSchema } from '../../../src/devserver/schema/crd-schema.ts';
import { pruneAndDefault } from '../../../src/devserver/schema/prune.ts';

const schema: CrdSchema = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      properties: {
        keep: { type: 'string' },
        withDefault: { type: 'integer', default: 5 },
        nullable: { type: 'integer', nullable: true },
        notNullable: { type: 'integer', default: 7 },
        items: { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } },
        map: {
          type: 'object',
          additionalProperties: { type: 'object', properties: { x: { type: 'integer' } } },
        },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        opaque: { type: 'object' },
      },
    },
  },
};

describe('pruneAndDefault', () => {
  it('drops undeclared fields everywhere but metadata, and lists them', () => {
    const result = pruneAndDefault(schema, {
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'n', anything: 1 },
      extra: true,
      spec: {
        keep: 'k',
        bogus: 1,
        items: [{ a: 'x', b: 'y' }],
        map: { m1: { x: 1, y: 2 } },
        free: { whatever: { deep: 1 } },
        opaque: { gone: 1 },
      },
    });
    expect(result.object).toEqual({
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'n', anything: 1 },
      spec: {
        keep: 'k',
        items: [{ a: 'x' }],
        map: { m1: { x: 1 } },
        free: { whatever: { deep: 1 } },
        opaque: {},
        withDefault: 5,
        notNullable: 7,
      },
    });
    expect(result.pruned).toEqual([
      'extra',
      'spec.bogus',
      'spec.items[0].b',
      'spec.map.m1.y',
      'spec.opaque.gone',
    ]);
  });

  it('drops nulls of non-nullable fields (then defaults them) and keeps nullable nulls', () => {
    const result = pruneAndDefault(schema, {
      metadata: {},
      spec: { nullable: null, notNullable: null, withDefault: 1 },
    });
    expect(result.object.spec).toEqual({ nullable: null, notNullable: 7, withDefault: 1 });
  });

  it('does not create absent parents to hold defaults', () => {
    expect(pruneAndDefault(schema, { metadata: {} }).object).toEqual({ metadata: {} });
  });
});
