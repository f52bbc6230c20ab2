import { describe, expect, it } from 'vitest';
import {
  coversPath,
  encodePath,
  fromFieldsV1,
  managedPaths,
  removePath,
  toFieldsV1,
  valueAt,
} from '../../../src/devserver/patch/field-paths.ts';

describe('field paths', () => {
  const object = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: { app: 'x' } },
    spec: { containers: [{ name: 'c', image: 'i' }], empty: {}, n: 1 },
    status: { phase: 'Running' },
  };

  it('collects leaves and keyed elements within a scope', () => {
    const main = [...managedPaths(object, undefined, 'main')].sort();
    expect(main).toEqual(
      [
        encodePath(['metadata', 'labels', 'app']),
        encodePath(['spec', 'containers', { k: { name: 'c' } }]),
        encodePath(['spec', 'containers', { k: { name: 'c' } }, 'image']),
        encodePath(['spec', 'containers', { k: { name: 'c' } }, 'name']),
        encodePath(['spec', 'empty']),
        encodePath(['spec', 'n']),
      ].sort(),
    );
    expect([...managedPaths(object, undefined, 'status')]).toEqual([encodePath(['status', 'phase'])]);
  });

  it('round-trips through fieldsV1', () => {
    const paths = managedPaths(object, undefined, 'all');
    const fields = toFieldsV1(paths);
    expect(fields).toMatchObject({
      'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {} } } },
    });
    expect(fromFieldsV1(fields)).toEqual(paths);
  });

  it('reads and removes by path, pruning emptied parents below the top level', () => {
    const copy = structuredClone(object);
    expect(valueAt(copy, encodePath(['spec', 'containers', { k: { name: 'c' } }, 'image']))).toBe('i');
    removePath(copy, encodePath(['metadata', 'labels', 'app']));
    expect(copy.metadata).toEqual({ name: 'p' });
    removePath(copy, encodePath(['spec', 'containers', { k: { name: 'c' } }]));
    expect(copy.spec.containers).toEqual([]);
  });

  it('tells whether one path covers another', () => {
    const spec = encodePath(['spec']);
    expect(coversPath(spec, encodePath(['spec', 'n']))).toBe(true);
    expect(coversPath(spec, spec)).toBe(true);
    expect(coversPath(spec, encodePath(['specs']))).toBe(false);
    expect(coversPath(encodePath(['spec', 'n']), spec)).toBe(false);
  });
});
