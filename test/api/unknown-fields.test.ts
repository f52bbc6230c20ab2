// unknownFields walks the zod shape beside the input, so it finds undeclared fields in input that fails validation.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { policySchema } from '../../src/api/policy.ts';
import { unknownFields } from '../../src/api/unknown-fields.ts';

describe('unknownFields', () => {
  it('finds fields at every depth, through optional, default, arrays, records and unions', () => {
    const schema = z.object({
      a: z.object({ b: z.int().optional() }).default({}),
      list: z.array(z.object({ x: z.string() })),
      map: z.record(z.string(), z.object({ y: z.number() })),
      either: z.union([z.object({ p: z.string() }), z.object({ q: z.string() })]),
    });
    expect(
      unknownFields(schema, {
        a: { b: 'not a number', c: 1 },
        list: [{ x: 'ok' }, { x: 'ok', z: 2 }],
        map: { k: { y: 1, w: 3 } },
        either: { q: 'ok', r: 1 },
        top: true,
      }),
    ).toEqual(['a.c', 'list[1].z', 'map.k.w', 'either.r', 'top']);
  });

  it('reports an input key named like an Object.prototype member ("constructor") as unknown', () => {
    expect(
      unknownFields(policySchema, {
        apiVersion: 'nodeqos.io/v1alpha1',
        kind: 'NodeQoSPolicy',
        metadata: { name: 'p' },
        spec: { classes: { LS: { constructor: { prototype: { polluted: true } } } } },
      }),
    ).toEqual(['spec.classes.LS.constructor']);
  });

  it('works on input that fails the schema: the wrong type where an object is expected is skipped', () => {
    expect(
      unknownFields(policySchema, { spec: { priority: 'high', classes: 'none', cpuSupress: {} } }),
    ).toEqual(['spec.cpuSupress']);
  });
});
