import { describe, expect, it } from 'vitest';
import { buildHtbLayout, NetPlanError, type PlanNetClass } from '../../../src/agent/net/layout.ts';
import { defaultNetClasses, tenGbit } from './fixtures.ts';

const linkBytes = tenGbit / 8;

describe('buildHtbLayout', () => {
  it('lays the default classes out under a 1:fffe root with a real default leaf 1:ffff', () => {
    const layout = buildHtbLayout(defaultNetClasses, tenGbit);
    expect(layout.root).toMatchObject({
      handle: '1:fffe',
      parent: 'root',
      rateBytes: linkBytes,
      ceilBytes: linkBytes,
    });
    // (link - BE's 500 Mbit) shared by LSE, LSR, LS and the default leaf.
    const share = (linkBytes - 62_500_000) / 4;
    expect(layout.leaves.map(l => [l.handle, l.name, l.prio, l.rateBytes, l.ceilBytes])).toEqual([
      ['1:1', 'LSE', 0, share, linkBytes],
      ['1:2', 'LSR', 1, share, linkBytes],
      ['1:3', 'LS', 2, share, linkBytes],
      ['1:4', 'BE', 3, 62_500_000, 125_000_000],
      ['1:ffff', 'default', 2, share, linkBytes],
    ]);
    expect(layout.leaves.every(l => l.parent === '1:fffe')).toBe(true);
    expect(layout.notes).toEqual([]);
  });

  it('gives the default leaf the lowest priority when the plan has no LS class', () => {
    const layout = buildHtbLayout(
      defaultNetClasses.filter(c => c.qosClass !== 'LS'),
      tenGbit,
    );
    expect(layout.leaves.at(-1)).toMatchObject({ handle: '1:ffff', prio: 7 });
  });

  it('keeps a minimum share for null-rate classes when explicit rates take the whole link', () => {
    const greedy: PlanNetClass[] = [
      {
        qosClass: 'BE',
        classid: '0x00010004',
        priority: 3,
        rateBitsPerSec: 2 * tenGbit,
        ceilBitsPerSec: null,
      },
      { qosClass: 'LS', classid: '0x00010003', priority: 2, rateBitsPerSec: null, ceilBitsPerSec: null },
    ];
    const layout = buildHtbLayout(greedy, tenGbit);
    expect(layout.leaves.find(l => l.name === 'LS')?.rateBytes).toBe(linkBytes / 1000);
    expect(layout.leaves.find(l => l.name === 'BE')).toMatchObject({
      rateBytes: 2 * linkBytes,
      ceilBytes: 2 * linkBytes,
    });
    expect(layout.notes).toEqual([
      expect.stringMatching(/^BE: ceil 10000000000 bit\/s is below its rate 20000000000 bit\/s/),
    ]);
  });

  it('serves QoS classes that share a classid with one leaf', () => {
    const shared = defaultNetClasses.map(c =>
      c.qosClass === 'LSR' ? { ...c, classid: '0x00010001', priority: 0 } : c,
    );
    const layout = buildHtbLayout(shared, tenGbit);
    expect(layout.leaves.map(l => `${l.handle}=${l.name}`)).toEqual([
      '1:1=LSE+LSR',
      '1:3=LS',
      '1:4=BE',
      '1:ffff=default',
    ]);
  });

  it('refuses classids it cannot build, listing every problem', () => {
    const bad: PlanNetClass[] = [
      { qosClass: 'LSE', classid: '0x00020001', priority: 0, rateBitsPerSec: null, ceilBitsPerSec: null },
      { qosClass: 'LSR', classid: '0x0001ffff', priority: 1, rateBitsPerSec: null, ceilBitsPerSec: null },
      { qosClass: 'LS', classid: '0x00010000', priority: 2, rateBitsPerSec: null, ceilBitsPerSec: null },
      { qosClass: 'BE', classid: '0x00010004', priority: 3, rateBitsPerSec: 4, ceilBitsPerSec: null },
    ];
    let error: unknown;
    try {
      buildHtbLayout(bad, tenGbit);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NetPlanError);
    expect((error as NetPlanError).issues).toEqual([
      "LSE classid 0x00020001: major 2 is not the HTB qdisc's 1",
      'LSR classid 0x0001ffff: 1:ffff is reserved for the default class',
      'LS classid 0x00010000: minor 0 names the qdisc, not a class',
      'BE classid 0x00010004: rate 4 bit/s is below 8 bit/s',
    ]);
  });

  it('refuses two classes sharing a classid with different shaping', () => {
    const clash = defaultNetClasses.map(c => (c.qosClass === 'LS' ? { ...c, classid: '0x00010004' } : c));
    expect(() => buildHtbLayout(clash, tenGbit)).toThrow(
      /LS and BE share classid 0x00010004 with different priority, rate or ceil/,
    );
  });
});
