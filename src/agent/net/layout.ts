// The HTB tree the plan's network classes call for on one interface:
//
//   qdisc 1: htb default ffff
//   └─ class 1:fffe      root, rate = ceil = link rate
//      ├─ class 1:<BBBB>  one leaf per plan classid 0x0001BBBB (prio, rate, ceil from the plan)
//      └─ class 1:ffff    the default leaf: all unclassified traffic
//
// The root is 1:fffe, not the customary 1:1, because the default plan gives LSE classid 0x00010001. The default
// leaf must exist: HTB sends traffic for a missing (or inner) default class to its direct queue, unshaped.
import type { PlanSpec } from '../../api/plan.ts';
import { bitsToBytes, formatHandle, parseClassid, quantumFor } from './units.ts';

export type PlanNetClass = PlanSpec['net']['classes'][number];

export const qdiscMajor = 1;
export const qdiscHandle = '1:';
export const rootMinor = 0xfffe;
export const defaultMinor = 0xffff;
export const rootHandle = formatHandle({ major: qdiscMajor, minor: rootMinor });
/** Priority of the default leaf when the plan has no LS class to copy it from (HTB's lowest). */
export const lowestPriority = 7;
/** Null-rate classes never get less than this share of the link, even when explicit rates take it all. */
const minShareOfLink = 0.001;

export interface DesiredClass {
  readonly handle: string;
  /** 'root' for the top class, else the parent's handle. */
  readonly parent: string;
  /** Which plan classes the leaf serves ('BE', 'LSE+LSR'), or 'root' / 'default'. */
  readonly name: string;
  readonly rateBytes: number;
  readonly ceilBytes: number;
  /** Leaves only (an inner class has no priority). */
  readonly prio?: number;
  /** DRR quantum in bytes; only a leaf's is compared, HTB ignores an inner class's. */
  readonly quantum: number;
}

export interface HtbLayout {
  readonly linkBytes: number;
  readonly root: DesiredClass;
  /** The plan's leaves in classid order, then the default leaf. */
  readonly leaves: readonly DesiredClass[];
  /** Values the layout had to change from the plan, one sentence each. */
  readonly notes: readonly string[];
}

export class NetPlanError extends Error {
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`network classes cannot be laid out: ${issues.join('; ')}`);
    this.name = 'NetPlanError';
    this.issues = issues;
  }
}

interface LeafSpec {
  readonly minor: number;
  readonly names: string[];
  readonly source: PlanNetClass;
}

export function buildHtbLayout(classes: readonly PlanNetClass[], linkBitsPerSec: number): HtbLayout {
  const issues: string[] = [];
  const linkBytes = bitsToBytes(linkBitsPerSec);
  if (linkBytes < 1) issues.push(`link rate ${linkBitsPerSec} bit/s is below 8 bit/s`);
  const specs = leafSpecs(classes, issues);
  if (issues.length > 0) throw new NetPlanError(issues);
  const explicitBytes = specs.reduce(
    (sum, s) => sum + (s.source.rateBitsPerSec === null ? 0 : bitsToBytes(s.source.rateBitsPerSec)),
    0,
  );
  const sharers = specs.filter(s => s.source.rateBitsPerSec === null).length + 1;
  const share = Math.max(
    1,
    Math.floor(linkBytes * minShareOfLink),
    Math.floor((linkBytes - explicitBytes) / sharers),
  );
  const notes: string[] = [];
  const leaves = specs.map(spec => planLeaf(spec, share, linkBytes, notes));
  const lsPriority = classes.find(c => c.qosClass === 'LS')?.priority ?? lowestPriority;
  leaves.push(
    leaf({ minor: defaultMinor, name: 'default', rateBytes: share, ceilBytes: linkBytes, prio: lsPriority }),
  );
  // The root is a leaf until its first child exists; its quantum only spares it the kernel's clamp and warning then.
  const root: DesiredClass = {
    handle: rootHandle,
    parent: 'root',
    name: 'root',
    rateBytes: linkBytes,
    ceilBytes: linkBytes,
    quantum: quantumFor(linkBytes),
  };
  return { linkBytes, root, leaves, notes };
}

function leafSpecs(classes: readonly PlanNetClass[], issues: string[]): LeafSpec[] {
  const byMinor = new Map<number, LeafSpec>();
  for (const c of classes) {
    const { major, minor } = parseClassid(c.classid);
    const problem = classidProblem(major, minor) ?? rateProblem(c);
    if (problem !== undefined) {
      issues.push(`${c.qosClass} classid ${c.classid}: ${problem}`);
      continue;
    }
    const seen = byMinor.get(minor);
    if (seen === undefined) byMinor.set(minor, { minor, names: [c.qosClass], source: c });
    else if (sameShaping(seen.source, c)) seen.names.push(c.qosClass);
    else
      issues.push(
        `${seen.names.join('+')} and ${c.qosClass} share classid ${c.classid} with different priority, rate or ceil`,
      );
  }
  return [...byMinor.values()].sort((a, b) => a.minor - b.minor);
}

function classidProblem(major: number, minor: number): string | undefined {
  if (major !== qdiscMajor) return `major ${major.toString(16)} is not the HTB qdisc's ${qdiscMajor}`;
  if (minor === 0) return 'minor 0 names the qdisc, not a class';
  if (minor === rootMinor || minor === defaultMinor)
    return `1:${minor.toString(16)} is reserved for the ${minor === rootMinor ? 'root' : 'default'} class`;
  return undefined;
}

function rateProblem(c: PlanNetClass): string | undefined {
  if (c.rateBitsPerSec !== null && bitsToBytes(c.rateBitsPerSec) < 1)
    return `rate ${c.rateBitsPerSec} bit/s is below 8 bit/s`;
  if (c.ceilBitsPerSec !== null && bitsToBytes(c.ceilBitsPerSec) < 1)
    return `ceil ${c.ceilBitsPerSec} bit/s is below 8 bit/s`;
  return undefined;
}

function sameShaping(a: PlanNetClass, b: PlanNetClass): boolean {
  return (
    a.priority === b.priority &&
    a.rateBitsPerSec === b.rateBitsPerSec &&
    a.ceilBitsPerSec === b.ceilBitsPerSec
  );
}

function planLeaf(spec: LeafSpec, share: number, linkBytes: number, notes: string[]): DesiredClass {
  const { rateBitsPerSec, ceilBitsPerSec, priority } = spec.source;
  const rateBytes = rateBitsPerSec === null ? share : bitsToBytes(rateBitsPerSec);
  let ceilBytes = ceilBitsPerSec === null ? linkBytes : bitsToBytes(ceilBitsPerSec);
  const name = spec.names.join('+');
  if (ceilBytes < rateBytes) {
    notes.push(
      `${name}: ceil ${ceilBytes * 8} bit/s is below its rate ${rateBytes * 8} bit/s; ceil raised to the rate`,
    );
    ceilBytes = rateBytes;
  }
  return leaf({ minor: spec.minor, name, rateBytes, ceilBytes, prio: priority });
}

function leaf(p: {
  minor: number;
  name: string;
  rateBytes: number;
  ceilBytes: number;
  prio: number;
}): DesiredClass {
  return {
    handle: formatHandle({ major: qdiscMajor, minor: p.minor }),
    parent: rootHandle,
    name: p.name,
    rateBytes: p.rateBytes,
    ceilBytes: p.ceilBytes,
    prio: p.prio,
    quantum: quantumFor(p.rateBytes),
  };
}
