import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/devserver/json.ts';
import { applyStrategicMergePatch } from '../../../src/devserver/patch/strategic-merge-patch.ts';

describe('applyStrategicMergePatch (subset)', () => {
  const pod: JsonObject = {
    metadata: { labels: { a: '1', b: '2' } },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', env: [{ name: 'X', value: '1' }] },
        { name: 'side', image: 'side:1' },
      ],
      tolerations: [{ key: 'k' }],
    },
  };

  it('merges maps like a merge patch, null deletes', () => {
    expect(applyStrategicMergePatch(pod, { metadata: { labels: { a: null, c: '3' } } })).toMatchObject({
      metadata: { labels: { b: '2', c: '3' } },
    });
  });

  it('merges lists of objects by name, recursively, appending new names', () => {
    const result = applyStrategicMergePatch(pod, {
      spec: {
        containers: [
          { name: 'app', env: [{ name: 'Y', value: '2' }] },
          { name: 'new', image: 'n' },
        ],
      },
    });
    expect(result).toMatchObject({
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:1',
            env: [
              { name: 'X', value: '1' },
              { name: 'Y', value: '2' },
            ],
          },
          { name: 'side', image: 'side:1' },
          { name: 'new', image: 'n' },
        ],
      },
    });
  });

  it('deletes list items with $patch: delete and replaces with $patch: replace', () => {
    const deleted = applyStrategicMergePatch(pod, {
      spec: { containers: [{ name: 'side', $patch: 'delete' }] },
    });
    expect(
      (deleted as { spec: { containers: { name: string }[] } }).spec.containers.map(c => c.name),
    ).toEqual(['app']);
    const replaced = applyStrategicMergePatch(pod, { metadata: { labels: { $patch: 'replace', z: '9' } } });
    expect(replaced).toMatchObject({ metadata: { labels: { z: '9' } } });
    expect((replaced as { metadata: { labels: object } }).metadata.labels).toEqual({ z: '9' });
  });

  it('replaces lists without a name key', () => {
    expect(applyStrategicMergePatch(pod, { spec: { tolerations: [{ key: 'other' }] } })).toMatchObject({
      spec: { tolerations: [{ key: 'other' }] },
    });
  });
});
