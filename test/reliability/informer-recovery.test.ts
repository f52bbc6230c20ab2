// An informer whose retry backoff has grown past its stall watchdog's period must still retry. (Found by the chaos
// suite: the watchdog took the wait for a stall and restarted the informer again, pushing the retry back each
// time, so an informer that had failed a few times never listed again.)
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer, type InformerSource, type WatchEvent } from '../../src/kube/informer.ts';
import { eventually } from '../support/eventually.ts';

interface Item {
  readonly name: string;
  readonly rv: string;
}

/** A source whose first `failures` lists fail; its watch only sends bookmarks (a healthy, quiet watch). */
function flakySource(failures: number): InformerSource<Item> & { lists: number } {
  const source = {
    resource: 'items',
    lists: 0,
    list: async () => {
      source.lists++;
      if (source.lists <= failures) throw new Error(`list ${source.lists} failed (injected)`);
      return { items: [{ name: 'a', rv: '1' }], resourceVersion: '1' };
    },
    watch: async (_rv: string, onEvent: (event: WatchEvent) => void) => {
      const timer = setInterval(() => {
        onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '1' } } });
      }, 50);
      return {
        abort: () => {
          clearInterval(timer);
        },
      };
    },
    transform: (raw: unknown) => raw as Item,
    key: (item: Item) => item.name,
    rawKey: (raw: unknown) => (raw as Item).name,
    resourceVersionOf: (item: Item) => item.rv,
  };
  return source;
}

let informer: Informer<Item> | undefined;

afterEach(() => {
  informer?.stop();
});

describe('Informer', () => {
  it('retries after a backoff longer than the stall watchdog, and only as often as the backoff says', async () => {
    const source = flakySource(3);
    // Backoffs (with jitter): 100-200, 200-400, 400-800 ms; the watchdog fires after 150 ms of silence.
    informer = new Informer(
      source,
      {},
      {
        stallMs: 150,
        backoff: { initialMs: 200, maxMs: 2000 },
        logger: pino({ level: 'silent' }),
      },
    );
    informer.start();
    await eventually(() => expect(informer?.hasSynced).toBe(true), 4000);
    expect(informer.list()).toEqual([{ name: 'a', rv: '1' }]);
    expect(source.lists).toBe(4);
  });
});
