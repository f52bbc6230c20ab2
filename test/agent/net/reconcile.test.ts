import { describe, expect, it } from 'vitest';
import { buildHtbLayout, type DesiredClass, type HtbLayout } from '../../../src/agent/net/layout.ts';
import { planTcCommands } from '../../../src/agent/net/reconcile.ts';
import type { ObservedClass, TcState } from '../../../src/agent/net/tc-state.ts';
import { tcRateText } from '../../../src/agent/net/units.ts';
import { defaultNetClasses, tenGbit } from './fixtures.ts';

const layout = buildHtbLayout(defaultNetClasses, tenGbit);
const ours = { kind: 'htb', handle: '1:', defaultMinor: 0xffff };
const cgroupFilter = { protocol: 'all', pref: 10, kind: 'cgroup' };
const options = { dev: 'eth0', cgroupFilter: true };

function observed(c: DesiredClass, form: 'text' | 'bytes'): ObservedClass {
  const rate = (bytes: number): ObservedClass['rate'] =>
    form === 'bytes' ? { bytes } : { text: tcRateText(bytes) };
  return {
    handle: c.handle,
    parent: c.parent,
    ...(c.prio === undefined ? {} : { prio: c.prio, quantum: c.quantum }),
    rate: rate(c.rateBytes),
    ceil: rate(c.ceilBytes),
  };
}

function converged(l: HtbLayout, form: 'text' | 'bytes'): TcState {
  return { qdisc: ours, classes: [l.root, ...l.leaves].map(c => observed(c, form)), filters: [cgroupFilter] };
}

const args = (state: TcState, opts = options): string[] =>
  planTcCommands(layout, state, opts).map(c => c.args.join(' '));

describe('planTcCommands', () => {
  it('builds the whole tree on an interface with its default qdisc', () => {
    expect(args({ qdisc: { kind: 'noqueue', handle: '0:' }, classes: [], filters: [] })).toEqual([
      'qdisc replace dev eth0 root handle 1: htb default ffff',
      'class replace dev eth0 parent 1: classid 1:fffe htb rate 10000000000bit ceil 10000000000bit quantum 200000',
      'class replace dev eth0 parent 1:fffe classid 1:1 htb rate 2375000000bit ceil 10000000000bit prio 0 quantum 200000',
      'class replace dev eth0 parent 1:fffe classid 1:2 htb rate 2375000000bit ceil 10000000000bit prio 1 quantum 200000',
      'class replace dev eth0 parent 1:fffe classid 1:3 htb rate 2375000000bit ceil 10000000000bit prio 2 quantum 200000',
      'class replace dev eth0 parent 1:fffe classid 1:4 htb rate 500000000bit ceil 1000000000bit prio 3 quantum 200000',
      'class replace dev eth0 parent 1:fffe classid 1:ffff htb rate 2375000000bit ceil 10000000000bit prio 2 quantum 200000',
      'filter add dev eth0 parent 1: protocol all prio 10 handle 1: cgroup',
    ]);
  });

  it('runs nothing on a converged interface, whether tc printed text or JSON', () => {
    expect(args(converged(layout, 'text'))).toEqual([]);
    expect(args(converged(layout, 'bytes'))).toEqual([]);
  });

  it('replaces only the class whose rate, ceil, prio or quantum differs', () => {
    const state = converged(layout, 'bytes');
    const changed = state.classes.map(c =>
      c.handle === '1:4' ? { ...c, ceil: { bytes: 1 } } : c.handle === '1:2' ? { ...c, prio: 5 } : c,
    );
    expect(args({ ...state, classes: changed })).toEqual([
      'class replace dev eth0 parent 1:fffe classid 1:2 htb rate 2375000000bit ceil 10000000000bit prio 1 quantum 200000',
      'class replace dev eth0 parent 1:fffe classid 1:4 htb rate 500000000bit ceil 1000000000bit prio 3 quantum 200000',
    ]);
    const quantum = state.classes.map(c => (c.handle === '1:ffff' ? { ...c, quantum: 1500 } : c));
    expect(args({ ...state, classes: quantum })).toHaveLength(1);
  });

  it('recreates an HTB 1: whose default class differs (HTB cannot change it in place)', () => {
    const state = converged(layout, 'text');
    expect(args({ ...state, qdisc: { ...ours, defaultMinor: 0x3 } }).slice(0, 3)).toEqual([
      'qdisc del dev eth0 root',
      'qdisc add dev eth0 root handle 1: htb default ffff',
      'class replace dev eth0 parent 1: classid 1:fffe htb rate 10000000000bit ceil 10000000000bit quantum 200000',
    ]);
  });

  it('deletes stale and misplaced classes with their children, deepest first', () => {
    // A Koordinator-style tree: root 1:1 with children 1:2, 1:3 (under 1:1) and a grandchild 1:30 under 1:3.
    const legacy: ObservedClass[] = [
      { handle: '1:1', parent: 'root', rate: { text: '10Gbit' }, ceil: { text: '10Gbit' } },
      { handle: '1:2', parent: '1:1', prio: 1, rate: { text: '1Gbit' }, ceil: { text: '10Gbit' } },
      { handle: '1:3', parent: '1:1', rate: { text: '1Gbit' }, ceil: { text: '10Gbit' } },
      { handle: '1:30', parent: '1:3', prio: 2, rate: { text: '1Gbit' }, ceil: { text: '10Gbit' } },
    ];
    const commands = args({ qdisc: ours, classes: legacy, filters: [cgroupFilter] });
    expect(commands.slice(0, 4)).toEqual([
      'class del dev eth0 classid 1:30',
      'class del dev eth0 classid 1:2',
      'class del dev eth0 classid 1:3',
      'class del dev eth0 classid 1:1',
    ]);
    expect(commands.slice(4).map(c => c.split(' ')[7])).toEqual([
      '1:fffe',
      '1:1',
      '1:2',
      '1:3',
      '1:4',
      '1:ffff',
    ]);
  });

  it('takes over filter pref 10 when another classifier holds it, and skips the filter when told', () => {
    const state = { ...converged(layout, 'bytes'), filters: [{ protocol: 'ip', pref: 10, kind: 'u32' }] };
    expect(args(state)).toEqual([
      'filter del dev eth0 parent 1: prio 10',
      'filter add dev eth0 parent 1: protocol all prio 10 handle 1: cgroup',
    ]);
    expect(args({ ...state, filters: [] }, { dev: 'eth0', cgroupFilter: false })).toEqual([]);
  });
});
