import { describe, expect, it } from 'vitest';
import { compileRules, evaluateRules } from '../../../src/devserver/schema/cel-rules.ts';
import type { CrdSchema } from '../../../src/devserver/schema/crd-schema.ts';

function schemaWith(spec: CrdSchema): CrdSchema {
  return { type: 'object', properties: { metadata: { type: 'object' }, spec } };
}

describe('CEL rules', () => {
  it('binds schema integers as int and numbers as double', () => {
    const schema = schemaWith({
      type: 'object',
      properties: { i: { type: 'integer' }, d: { type: 'number' } },
      'x-kubernetes-validations': [
        { rule: 'self.i / 2 == 1', message: 'int division' },
        { rule: 'self.d / 2.0 == 1.5', message: 'double division' },
        { rule: 'type(self.i) == int && type(self.d) == double', message: 'types' },
      ],
    });
    expect(evaluateRules(schema, { metadata: {}, spec: { i: 3, d: 3 } }, undefined)).toEqual([]);
  });

  it('skips rules of absent subtrees and reports the rule fieldPath', () => {
    const schema = schemaWith({
      type: 'object',
      properties: {
        m: {
          type: 'object',
          properties: { a: { type: 'number' }, b: { type: 'number' } },
          'x-kubernetes-validations': [
            { rule: 'self.a <= self.b', message: 'a <= b', fieldPath: '.a', reason: 'FieldValueForbidden' },
          ],
        },
      },
    });
    expect(evaluateRules(schema, { metadata: {}, spec: {} }, undefined)).toEqual([]);
    expect(evaluateRules(schema, { metadata: {}, spec: { m: { a: 2, b: 1 } } }, undefined)).toEqual([
      { reason: 'FieldValueForbidden', message: 'Forbidden: a <= b', field: 'spec.m.a' },
    ]);
  });

  it('provides the Kubernetes list functions', () => {
    const schema = schemaWith({
      type: 'object',
      properties: { xs: { type: 'array', items: { type: 'integer' } } },
      'x-kubernetes-validations': [
        { rule: 'self.xs.isSorted()', message: 'sorted' },
        { rule: 'self.xs.sum() == 6 && self.xs.min() == 1 && self.xs.max() == 3', message: 'sum/min/max' },
        { rule: 'self.xs.indexOf(2) == 1 && self.xs.lastIndexOf(9) == -1', message: 'indexOf' },
      ],
    });
    expect(evaluateRules(schema, { metadata: {}, spec: { xs: [1, 2, 3] } }, undefined)).toEqual([]);
    expect(
      evaluateRules(schema, { metadata: {}, spec: { xs: [3, 2, 1] } }, undefined).map(c => c.message),
    ).toEqual(['Invalid value: sorted']);
  });

  it('evaluates transition rules only on updates, with messageExpression', () => {
    const schema = schemaWith({
      type: 'object',
      properties: {
        name: {
          type: 'string',
          'x-kubernetes-validations': [
            { rule: 'self == oldSelf', messageExpression: '"name is immutable, was " + oldSelf' },
          ],
        },
      },
    });
    expect(evaluateRules(schema, { metadata: {}, spec: { name: 'b' } }, undefined)).toEqual([]);
    expect(
      evaluateRules(schema, { metadata: {}, spec: { name: 'b' } }, { metadata: {}, spec: { name: 'a' } }),
    ).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "b": name is immutable, was a',
        field: 'spec.name',
      },
    ]);
  });

  it('reports evaluation errors as causes and compile errors at load time', () => {
    const schema = schemaWith({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.missing > 1' }] });
    expect(evaluateRules(schema, { metadata: {}, spec: {} }, undefined)[0]?.message).toMatch(
      /rule evaluation error/,
    );
    expect(() =>
      compileRules(
        schemaWith({ type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a >' }] }),
        'test CRD',
      ),
    ).toThrow(/test CRD: cannot compile CEL expression "self.a >"/);
  });
});
