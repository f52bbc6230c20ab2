import { describe, expect, it } from 'vitest';
import {
  fieldsMatch,
  labelsMatch,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/devserver/selectors.ts';

const object = (labels: Record<string, string>, nodeName?: string): Record<string, never> =>
  ({
    metadata: { name: 'p', namespace: 'ns', labels },
    spec: nodeName === undefined ? {} : { nodeName },
  }) as never;

describe('label selectors', () => {
  it('parses every operator', () => {
    expect(parseLabelSelector('a=1,b==2,c!=3,d in (x, y),e notin (z),f,!g')).toEqual([
      { key: 'a', op: 'in', values: ['1'] },
      { key: 'b', op: 'in', values: ['2'] },
      { key: 'c', op: 'notin', values: ['3'] },
      { key: 'd', op: 'in', values: ['x', 'y'] },
      { key: 'e', op: 'notin', values: ['z'] },
      { key: 'f', op: 'exists' },
      { key: 'g', op: 'notexists' },
    ]);
    expect(parseLabelSelector(null)).toEqual([]);
    expect(parseLabelSelector('example.com/role=web')).toEqual([
      { key: 'example.com/role', op: 'in', values: ['web'] },
    ]);
  });

  it('matches as Kubernetes does (!= and notin also match absent labels)', () => {
    const reqs = parseLabelSelector('app!=web,tier notin (db)');
    expect(labelsMatch(reqs, object({}))).toBe(true);
    expect(labelsMatch(reqs, object({ app: 'web' }))).toBe(false);
    expect(labelsMatch(parseLabelSelector('app in (a,b)'), object({ app: 'b' }))).toBe(true);
    expect(labelsMatch(parseLabelSelector('app'), object({}))).toBe(false);
  });

  it('rejects malformed selectors with 400', () => {
    for (const bad of ['a in (x', '-a=b', 'a=b c', 'a=' + 'x'.repeat(64)]) {
      expect(() => parseLabelSelector(bad), bad).toThrow(expect.objectContaining({ code: 400 }) as Error);
    }
  });
});

describe('field selectors', () => {
  const supported = ['metadata.name', 'metadata.namespace', 'spec.nodeName'];

  it('parses =, == and != on supported fields', () => {
    expect(parseFieldSelector('spec.nodeName=n1,metadata.name!=x,metadata.namespace==ns', supported)).toEqual(
      [
        { field: 'spec.nodeName', op: '=', value: 'n1' },
        { field: 'metadata.name', op: '!=', value: 'x' },
        { field: 'metadata.namespace', op: '=', value: 'ns' },
      ],
    );
  });

  it('treats a missing field as the empty string', () => {
    expect(fieldsMatch(parseFieldSelector('spec.nodeName=', supported), object({}))).toBe(true);
    expect(fieldsMatch(parseFieldSelector('spec.nodeName!=', supported), object({}, 'n1'))).toBe(true);
  });

  it('rejects unsupported fields', () => {
    expect(() => parseFieldSelector('status.phase=Running', supported)).toThrow(/field label not supported/);
  });
});
