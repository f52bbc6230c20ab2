import type { PlanNetClass } from '../../../src/agent/net/layout.ts';

/** The plan's net classes under the default policy (src/api/defaults.ts). */
export const defaultNetClasses: PlanNetClass[] = [
  { qosClass: 'LSE', classid: '0x00010001', priority: 0, rateBitsPerSec: null, ceilBitsPerSec: null },
  { qosClass: 'LSR', classid: '0x00010002', priority: 1, rateBitsPerSec: null, ceilBitsPerSec: null },
  { qosClass: 'LS', classid: '0x00010003', priority: 2, rateBitsPerSec: null, ceilBitsPerSec: null },
  {
    qosClass: 'BE',
    classid: '0x00010004',
    priority: 3,
    rateBitsPerSec: 500_000_000,
    ceilBitsPerSec: 1_000_000_000,
  },
];

export const tenGbit = 10_000_000_000;

/** `tc -d -j class show` of iproute2 6.1 (text despite -j) for a tree built by hand on a veth. */
export const iproute61ClassText = [
  'class htb 1:ffff parent 1:fffe prio 2 quantum 200000 rate 1Mbit ceil 10Gbit linklayer ethernet burst 1600b/1 mpu 0b cburst 0b/1 mpu 0b level 0 ',
  'class htb 1:4 parent 1:fffe leaf 10: prio 3 quantum 200000 rate 500Mbit ceil 1Gbit linklayer ethernet burst 1500b/1 mpu 0b cburst 1375b/1 mpu 0b level 0 ',
  'class htb 1:fffe root rate 10Gbit ceil 10Gbit linklayer ethernet burst 0b/1 mpu 0b cburst 0b/1 mpu 0b level 7 ',
  'class fq_codel 10:1 parent 10: ',
  '',
].join('\n');

/** The same classes as iproute2 >= 6.3 prints them with -j (rates in bytes per second). */
export const jsonClassText = JSON.stringify([
  {
    class: 'htb',
    handle: '1:ffff',
    parent: '1:fffe',
    prio: 2,
    quantum: 200000,
    rate: 125000,
    ceil: 1250000000,
    level: 0,
  },
  {
    class: 'htb',
    handle: '1:4',
    parent: '1:fffe',
    leaf: '0x10',
    prio: 3,
    quantum: 200000,
    rate: 62500000,
    ceil: 125000000,
    level: 0,
  },
  { class: 'htb', handle: '1:fffe', root: true, rate: 1250000000, ceil: 1250000000, level: 7 },
  { class: 'htb', handle: '2:1', root: true, rate: 125, ceil: 125 },
]);
