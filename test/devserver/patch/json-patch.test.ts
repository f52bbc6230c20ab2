import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../src/devserver/json.ts';
import { applyJsonPatch, parseJsonPatch } from '../../../src/devserver/patch/json-patch.ts';

function patch(target: JsonValue, operations: JsonValue): JsonValue {
  return applyJsonPatch(target, parseJsonPatch(operations));
}

describe('applyJsonPatch (RFC 6902 appendix A)', () => {
  it('adds object members and array elements, including "-"', () => {
    expect(patch({ foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }])).toEqual({
      foo: 'bar',
      baz: 'qux',
    });
    expect(patch({ foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }])).toEqual({
      foo: ['bar', 'qux', 'baz'],
    });
    expect(patch({ foo: [1] }, [{ op: 'add', path: '/foo/-', value: [2] }])).toEqual({ foo: [1, [2]] });
  });

  it('removes, replaces, moves and copies', () => {
    expect(patch({ baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }])).toEqual({ foo: 'bar' });
    expect(patch({ foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }])).toEqual({
      foo: ['bar', 'baz'],
    });
    expect(patch({ baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }])).toEqual({
      baz: 'boo',
      foo: 'bar',
    });
    expect(
      patch({ foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [
        { op: 'move', from: '/foo/waldo', path: '/qux/thud' },
      ]),
    ).toEqual({ foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } });
    expect(
      patch({ foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }]),
    ).toEqual({
      foo: ['all', 'cows', 'eat', 'grass'],
    });
    expect(patch({ a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }])).toEqual({
      a: { b: 1 },
      c: { b: 1 },
    });
  });

  it('decodes ~0 and ~1 in pointers', () => {
    expect(
      patch({ 'a/b': 1, 'm~n': 2 }, [
        { op: 'replace', path: '/a~1b', value: 3 },
        { op: 'remove', path: '/m~0n' },
      ]),
    ).toEqual({ 'a/b': 3 });
  });

  it('fails atomically with 422 on a failed test or a missing path', () => {
    const target = { baz: 'qux', foo: ['a', 2, 'c'] };
    expect(() => patch(target, [{ op: 'test', path: '/baz', value: 'bar' }])).toThrow(
      expect.objectContaining({ code: 422 }) as Error,
    );
    expect(() => patch(target, [{ op: 'add', path: '/baz/bat', value: 'qux' }])).toThrow(/does not exist/);
    expect(() => patch(target, [{ op: 'remove', path: '/nope' }])).toThrow(/does not exist/);
    expect(() => patch(target, [{ op: 'add', path: '/foo/4', value: 1 }])).toThrow(/out of range/);
    expect(() => patch(target, [{ op: 'move', from: '/foo', path: '/foo/0' }])).toThrow(/own child/);
    expect(target).toEqual({ baz: 'qux', foo: ['a', 2, 'c'] });
    expect(patch(target, [{ op: 'test', path: '/foo/1', value: 2 }])).toEqual(target);
  });

  it('rejects malformed documents with 400', () => {
    for (const bad of [
      { op: 'add' },
      [{ op: 'add', path: '/a' }],
      [{ op: 'move', path: '/a' }],
      [{ op: 'jump', path: '/a' }],
      [{ op: 'add', path: 1, value: 1 }],
    ]) {
      expect(() => parseJsonPatch(bad as JsonValue)).toThrow(expect.objectContaining({ code: 400 }) as Error);
    }
  });
});
