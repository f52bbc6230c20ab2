import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/devserver/api-error.ts';
import type { JsonObject } from '../../src/devserver/json.ts';
import { ObjectStore, type StoredEvent } from '../../src/devserver/store.ts';

const clock = (): Date => new Date('2024-05-06T07:08:09.123Z');

function node(name: string, extra: JsonObject = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, ...extra };
}

function meta(object: JsonObject): JsonObject {
  return object.metadata as JsonObject;
}

describe('ObjectStore', () => {
  it('stamps uid, creationTimestamp, generation and an increasing global resourceVersion', () => {
    const store = new ObjectStore({ historyLimit: 10, clock });
    const a = store.create(
      'nodes',
      node('a', { metadata: { name: 'a', uid: 'client-chosen', generation: 7 } }),
    );
    const b = store.create('pods', { metadata: { name: 'b', namespace: 'ns' } });
    expect(meta(a)).toMatchObject({
      name: 'a',
      generation: 1,
      creationTimestamp: '2024-05-06T07:08:09Z',
      resourceVersion: '1',
    });
    expect(meta(a).uid).not.toBe('client-chosen');
    expect(meta(b).resourceVersion).toBe('2');
    expect(store.resourceVersion()).toBe('2');
    expect(() => store.create('nodes', node('a'))).toThrow(
      expect.objectContaining({ code: 409, reason: 'AlreadyExists' }) as Error,
    );
  });

  it('keys objects by namespace and name and returns copies', () => {
    const store = new ObjectStore({ historyLimit: 10 });
    store.create('pods', { metadata: { name: 'x', namespace: 'b' } });
    store.create('pods', { metadata: { name: 'x', namespace: 'a' } });
    expect(store.list('pods').map(p => meta(p).namespace)).toEqual(['a', 'b']);
    expect(store.list('pods', 'b')).toHaveLength(1);
    const copy = store.get('pods', 'a', 'x');
    if (copy === undefined) throw new Error('missing');
    meta(copy).name = 'changed';
    expect(store.get('pods', 'a', 'x')).toBeDefined();
    expect(store.get('pods', '', 'x')).toBeUndefined();
  });

  it('bumps generation only for changes outside metadata and status, and skips no-op updates', () => {
    const store = new ObjectStore({ historyLimit: 10 });
    const created = store.create('nodes', node('n', { spec: { a: 1 } }));
    const relabeled = store.update('nodes', {
      ...created,
      metadata: { ...meta(created), labels: { x: 'y' } },
      status: { s: 1 },
    });
    expect(meta(relabeled).generation).toBe(1);
    const respec = store.update('nodes', { ...relabeled, spec: { a: 2 } });
    expect(meta(respec).generation).toBe(2);
    const events: StoredEvent[] = [];
    store.subscribe(event => events.push(event));
    const same = store.update('nodes', respec);
    expect(meta(same).resourceVersion).toBe(meta(respec).resourceVersion);
    expect(events).toEqual([]);
  });

  it('rejects a stale precondition with 409 Conflict', () => {
    const store = new ObjectStore({ historyLimit: 10 });
    const created = store.create('nodes', node('n'));
    store.update('nodes', { ...created, spec: { a: 1 } });
    expect(() =>
      store.update(
        'nodes',
        { ...created, spec: { a: 2 } },
        { precondition: meta(created).resourceVersion as string },
      ),
    ).toThrow(ApiError);
  });

  it('records events with the previous object and serves them from a bounded window', () => {
    const store = new ObjectStore({ historyLimit: 3 });
    const created = store.create('nodes', node('n'));
    store.update('nodes', { ...created, spec: { a: 1 } });
    const deleted = store.delete('nodes', '', 'n');
    expect(deleted.pending).toBe(false);
    expect(meta(deleted.object).resourceVersion).toBe('3');
    expect(store.eventsAfter(0)?.map(e => `${e.type}@${e.resourceVersion}`)).toEqual([
      'ADDED@1',
      'MODIFIED@2',
      'DELETED@3',
    ]);
    expect(store.eventsAfter(1)?.[0]?.previous).toMatchObject({ metadata: { resourceVersion: '1' } });
    store.create('nodes', node('m'));
    expect(store.eventsAfter(0)).toBeUndefined();
    expect(store.eventsAfter(1)?.map(e => e.resourceVersion)).toEqual([2, 3, 4]);
    store.forgetHistory();
    expect(store.eventsAfter(3)).toBeUndefined();
    expect(store.eventsAfter(4)).toEqual([]);
  });

  it('marks objects with finalizers and deletes them once the finalizers are gone', () => {
    const store = new ObjectStore({ historyLimit: 10, clock });
    store.create('nodes', node('f', { metadata: { name: 'f', finalizers: ['x'] } }));
    const marked = store.delete('nodes', '', 'f');
    expect(marked.pending).toBe(true);
    expect(meta(marked.object).deletionTimestamp).toBe('2024-05-06T07:08:09Z');
    const events: string[] = [];
    store.subscribe(event => events.push(event.type));
    store.update('nodes', { ...marked.object, metadata: { ...meta(marked.object), finalizers: [] } });
    expect(store.get('nodes', '', 'f')).toBeUndefined();
    expect(events).toEqual(['DELETED']);
  });

  it('freezes stored objects handed to listeners', () => {
    const store = new ObjectStore({ historyLimit: 10 });
    let seen: StoredEvent | undefined;
    store.subscribe(event => (seen = event));
    store.create('nodes', node('frozen'));
    expect(Object.isFrozen(seen?.object.metadata)).toBe(true);
  });
});
