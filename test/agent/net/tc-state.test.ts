import { describe, expect, it } from 'vitest';
import {
  parseFilters,
  parseHtbClasses,
  parseRootQdisc,
  TcParseError,
} from '../../../src/agent/net/tc-state.ts';
import { iproute61ClassText, jsonClassText } from './fixtures.ts';

describe('tc state parsing', () => {
  it('reads the root qdisc and its HTB default class', () => {
    const text =
      '[{"kind":"htb","handle":"1:","root":true,"refcnt":3,"options":{"r2q":10,"default":"0xffff","direct_packets_stat":0,"direct_qlen":1000}}]';
    expect(parseRootQdisc(text)).toEqual({ kind: 'htb', handle: '1:', defaultMinor: 0xffff });
    expect(parseRootQdisc('[{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}]')).toEqual({
      kind: 'noqueue',
      handle: '0:',
    });
    expect(parseRootQdisc('[]')).toBeUndefined();
    expect(() => parseRootQdisc('qdisc noqueue 0: root')).toThrow(TcParseError);
  });

  it('reads HTB classes from the text iproute2 6.1 prints even with -j', () => {
    expect(parseHtbClasses(iproute61ClassText, 1)).toEqual([
      {
        handle: '1:ffff',
        parent: '1:fffe',
        prio: 2,
        quantum: 200000,
        rate: { text: '1Mbit' },
        ceil: { text: '10Gbit' },
      },
      {
        handle: '1:4',
        parent: '1:fffe',
        prio: 3,
        quantum: 200000,
        rate: { text: '500Mbit' },
        ceil: { text: '1Gbit' },
      },
      { handle: '1:fffe', parent: 'root', rate: { text: '10Gbit' }, ceil: { text: '10Gbit' } },
    ]);
  });

  it('reads HTB classes from the JSON of newer iproute2, keeping only qdisc 1:', () => {
    expect(parseHtbClasses(jsonClassText, 1)).toEqual([
      {
        handle: '1:ffff',
        parent: '1:fffe',
        prio: 2,
        quantum: 200000,
        rate: { bytes: 125000 },
        ceil: { bytes: 1250000000 },
      },
      {
        handle: '1:4',
        parent: '1:fffe',
        prio: 3,
        quantum: 200000,
        rate: { bytes: 62500000 },
        ceil: { bytes: 125000000 },
      },
      { handle: '1:fffe', parent: 'root', rate: { bytes: 1250000000 }, ceil: { bytes: 1250000000 } },
    ]);
    expect(parseHtbClasses('', 1)).toEqual([]);
  });

  it('reads filters from JSON (one entry per filter, not per chain element) and from text', () => {
    const json = JSON.stringify([
      { parent: '1:', protocol: 'all', pref: 10, kind: 'cgroup', chain: 0 },
      { parent: '1:', protocol: 'all', pref: 10, kind: 'cgroup', chain: 0, options: { handle: '0x1' } },
      { parent: '1:', protocol: 'ip', pref: 20, kind: 'u32', chain: 0 },
    ]);
    expect(parseFilters(json)).toEqual([
      { protocol: 'all', pref: 10, kind: 'cgroup' },
      { protocol: 'ip', pref: 20, kind: 'u32' },
    ]);
    expect(
      parseFilters(
        'filter parent 1: protocol all pref 10 cgroup chain 0 \nfilter parent 1: protocol all pref 10 cgroup chain 0 handle 0x1 \n',
      ),
    ).toEqual([{ protocol: 'all', pref: 10, kind: 'cgroup' }]);
    expect(parseFilters('')).toEqual([]);
  });
});
