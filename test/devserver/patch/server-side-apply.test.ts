import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/devserver/json.ts';
import { serverSideApply, type ApplyRequest } from '../../../src/devserver/patch/server-side-apply.ts';
import type { CrdSchema } from '../../../src/devserver/schema/crd-schema.ts';

const schema: CrdSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        a: { type: 'integer' },
        list: { type: 'array', items: { type: 'string' } },
        rules: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['id'],
          items: {
            type: 'object',
            properties: { id: { type: 'string' }, v: { type: 'integer' }, w: { type: 'integer' } },
          },
        },
      },
    },
  },
};

function apply(live: JsonObject, manager: string, spec: JsonObject, force = false): JsonObject {
  const request: ApplyRequest = {
    live,
    config: { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'o' }, spec },
    manager,
    force,
    scope: 'all',
    schema,
    apiVersion: 'x/v1',
    time: '2024-01-01T00:00:00Z',
  };
  return serverSideApply(request);
}

const empty: JsonObject = { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'o' } };

describe('serverSideApply', () => {
  it('replaces atomic lists and merges map lists element by element', () => {
    let object = apply(empty, 'm1', { list: ['a', 'b'], rules: [{ id: 'r1', v: 1 }] });
    object = apply(object, 'm2', { rules: [{ id: 'r2', v: 2 }] });
    expect(object.spec).toEqual({
      list: ['a', 'b'],
      rules: [
        { id: 'r1', v: 1 },
        { id: 'r2', v: 2 },
      ],
    });
    const fields = (object.metadata as { managedFields: { manager: string; fieldsV1: JsonObject }[] })
      .managedFields;
    expect(fields.find(f => f.manager === 'm2')?.fieldsV1).toEqual({
      'f:spec': { 'f:rules': { 'k:{"id":"r2"}': { '.': {}, 'f:id': {}, 'f:v': {} } } },
    });
    object = apply(object, 'm1', { list: ['c'], rules: [{ id: 'r1', v: 1 }] });
    expect(object.spec).toEqual({
      list: ['c'],
      rules: [
        { id: 'r1', v: 1 },
        { id: 'r2', v: 2 },
      ],
    });
  });

  it('removes an element the manager stops applying, unless another manager owns part of it', () => {
    let object = apply(empty, 'm1', {
      rules: [
        { id: 'r1', v: 1 },
        { id: 'r2', v: 2 },
      ],
    });
    object = apply(object, 'm2', { rules: [{ id: 'r2', w: 5 }] });
    object = apply(object, 'm1', { rules: [] });
    expect(object.spec).toEqual({ rules: [{ id: 'r2', w: 5 }] });
  });

  it('reports conflicts only where values differ, and force moves ownership', () => {
    const base = apply(empty, 'm1', { a: 1 });
    expect(apply(base, 'm2', { a: 1 }).spec).toEqual({ a: 1 });
    expect(() => apply(base, 'm2', { a: 2 })).toThrow(expect.objectContaining({ code: 409 }) as Error);
    const forced = apply(base, 'm2', { a: 2 }, true);
    const fields = (forced.metadata as { managedFields: { manager: string }[] }).managedFields;
    expect(fields.map(f => f.manager)).toEqual(['m2']);
  });
});
