// The informer's handling of objects its transform rejects: a rejected ADDED/MODIFIED version evicts the cached
// object as a delete would, the same way whether it arrives on the watch or in a relist, and leaves a tombstone that
// is reported once per version.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Informer,
  type InformerHandlers,
  type InformerSource,
  type WatchEvent,
} from '../../src/kube/informer.ts';
import { eventually } from '../support/eventually.ts';

interface Item {
  readonly name: string;
  readonly rv: string;
  readonly size: number;
}

interface RawItem {
  metadata: { name: string; resourceVersion: string };
  size: unknown;
}

const raw = (name: string, rv: number, size: unknown): RawItem => ({
  metadata: { name, resourceVersion: String(rv) },
  size,
});

/** Accepts items whose size is a non-negative number; anything else is a shape this build cannot read. */
function transform(value: unknown): Item | undefined {
  const item = value as RawItem;
  if (typeof item.size !== 'number' || item.size < 0) return undefined;
  return { name: item.metadata.name, rv: item.metadata.resourceVersion, size: item.size };
}

/** A source whose list returns `items` and whose watch events the test pushes by hand. */
class ScriptedSource implements InformerSource<Item> {
  readonly resource = 'items';
  items: RawItem[] = [];
  lists = 0;
  private emit: ((event: WatchEvent) => void) | undefined;

  list(): Promise<{ items: RawItem[]; resourceVersion: string }> {
    this.lists++;
    const rv = Math.max(0, ...this.items.map(i => Number(i.metadata.resourceVersion)));
    return Promise.resolve({ items: [...this.items], resourceVersion: String(rv) });
  }

  watch(_rv: string, onEvent: (event: WatchEvent) => void): Promise<{ abort(): void }> {
    this.emit = onEvent;
    return Promise.resolve({
      abort: () => {
        this.emit = undefined;
      },
    });
  }

  get watching(): boolean {
    return this.emit !== undefined;
  }

  send(type: WatchEvent['type'], object: RawItem): void {
    if (!this.emit) throw new Error('no watch open');
    this.emit({ type, object });
  }

  /** The server expires the watch: the informer must relist. */
  expire(): void {
    const onEvent = this.emit;
    this.emit = undefined;
    onEvent?.({ type: 'ERROR', object: { code: 410, message: 'too old resource version' } });
  }

  transform = transform;
  key = (item: Item): string => item.name;
  rawKey = (value: unknown): string | undefined => (value as RawItem).metadata.name;
  resourceVersionOf = (item: Item): string => item.rv;
}

type Call = string;

function recorder(withRejected: boolean): { calls: Call[]; handlers: InformerHandlers<Item> } {
  const calls: Call[] = [];
  const handlers: InformerHandlers<Item> = {
    onAdd: i => calls.push(`add ${i.name}@${i.rv}`),
    onUpdate: (before, after) => calls.push(`update ${after.name}@${before.rv}->${after.rv}`),
    onDelete: i => calls.push(`delete ${i.name}@${i.rv}`),
  };
  if (withRejected)
    handlers.onRejected = (key, rv, evicted) =>
      calls.push(`rejected ${key}@${rv} evicting ${evicted ? evicted.rv : 'nothing'}`);
  return { calls, handlers };
}

const informers: Informer<Item>[] = [];

function start(source: ScriptedSource, handlers: InformerHandlers<Item>): Informer<Item> {
  const informer = new Informer(source, handlers, {
    stallMs: 60_000,
    backoff: { initialMs: 1, maxMs: 2 },
    logger: pino({ level: 'silent' }),
  });
  informers.push(informer);
  informer.start();
  return informer;
}

afterEach(() => {
  for (const informer of informers.splice(0)) informer.stop();
});

/** The versions item `a` goes through: accepted, rejected, rejected again (new version), accepted again. */
const versions: readonly RawItem[] = [raw('a', 1, 1), raw('a', 2, 'big'), raw('a', 3, -1), raw('a', 4, 2)];

/** Delivers each version as a watch MODIFIED (ADDED first); returns the handler calls and cache after each. */
async function overTheWatch(withRejected: boolean): Promise<string[][]> {
  const source = new ScriptedSource();
  const { calls, handlers } = recorder(withRejected);
  const informer = start(source, handlers);
  await eventually(() => source.watching);
  const snapshots: string[][] = [];
  versions.forEach((version, i) => {
    source.send(i === 0 ? 'ADDED' : 'MODIFIED', version);
    snapshots.push([...calls.splice(0), `cache ${JSON.stringify(informer.list())}`]);
  });
  return snapshots;
}

/** Stores each version on the server and makes the informer relist (410) instead. */
async function overRelists(withRejected: boolean): Promise<string[][]> {
  const source = new ScriptedSource();
  const { calls, handlers } = recorder(withRejected);
  const informer = start(source, handlers);
  await eventually(() => source.watching);
  const snapshots: string[][] = [];
  for (const version of versions) {
    source.items = [version];
    const lists = source.lists;
    source.expire();
    await eventually(() => source.lists > lists && source.watching);
    snapshots.push([...calls.splice(0), `cache ${JSON.stringify(informer.list())}`]);
  }
  return snapshots;
}

describe('Informer: objects the transform rejects', () => {
  it('a rejected MODIFIED evicts the cached object like a delete; an accepted version comes back as an add', async () => {
    const snapshots = await overTheWatch(false);
    expect(snapshots).toEqual([
      ['add a@1', 'cache [{"name":"a","rv":"1","size":1}]'],
      ['delete a@1', 'cache []'],
      ['cache []'],
      ['add a@4', 'cache [{"name":"a","rv":"4","size":2}]'],
    ]);
  });

  it('the watch and the relist paths make the same calls and leave the same cache', async () => {
    expect(await overRelists(false)).toEqual(await overTheWatch(false));
    expect(await overRelists(true)).toEqual(await overTheWatch(true));
  });

  it('onRejected replaces onDelete, gets the evicted object, and hears of each rejected version once', async () => {
    const snapshots = await overTheWatch(true);
    expect(snapshots.map(s => s.slice(0, -1))).toEqual([
      ['add a@1'],
      ['rejected a@2 evicting 1'],
      ['rejected a@3 evicting nothing'],
      ['add a@4'],
    ]);

    const source = new ScriptedSource();
    const { calls, handlers } = recorder(true);
    source.items = [raw('b', 7, 'x')];
    const informer = start(source, handlers);
    await eventually(() => source.watching);
    expect(informer.rejectedVersion('b')).toBe('7');
    // The same rejected version in the next relist is not news.
    for (let i = 0; i < 2; i++) {
      const lists = source.lists;
      source.expire();
      await eventually(() => source.lists > lists && source.watching);
    }
    expect(calls).toEqual(['rejected b@7 evicting nothing']);
    // Gone from the next list: the tombstone goes too.
    source.items = [];
    const lists = source.lists;
    source.expire();
    await eventually(() => source.lists > lists && source.watching);
    expect(informer.rejectedVersion('b')).toBeUndefined();
  });

  it('a DELETED event whose object the transform rejects still removes the cached object and the tombstone', async () => {
    const source = new ScriptedSource();
    const { calls, handlers } = recorder(true);
    const informer = start(source, handlers);
    await eventually(() => source.watching);
    source.send('ADDED', raw('a', 1, 1));
    source.send('DELETED', raw('a', 2, 'garbled'));
    source.send('MODIFIED', raw('c', 3, 'garbled'));
    source.send('DELETED', raw('c', 4, 'garbled'));
    expect(calls).toEqual(['add a@1', 'delete a@1', 'rejected c@3 evicting nothing']);
    expect(informer.list()).toEqual([]);
    expect(informer.rejectedVersion('c')).toBeUndefined();
  });
});
