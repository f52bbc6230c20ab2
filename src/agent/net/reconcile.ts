// The tc commands that turn the observed state of one interface into the HTB layout, and nothing more: a class
// that already matches gets no command, so a second pass over a converged interface yields an empty list.
import { defaultMinor, qdiscHandle, qdiscMajor, type DesiredClass, type HtbLayout } from './layout.ts';
import type { ObservedClass, ObservedRate, TcState } from './tc-state.ts';
import { tcRateArg, tcRateText } from './units.ts';

export const filterPref = 10;
export const filterProtocol = 'all';

export type TcPurpose = 'qdisc' | 'class' | 'filter';

export interface TcCommand {
  readonly purpose: TcPurpose;
  /** tc arguments (without `tc`). */
  readonly args: readonly string[];
}

export interface TcPlanOptions {
  readonly dev: string;
  /** Add the net_cls cgroup filter (false once the kernel has said it has no cgroup classifier). */
  readonly cgroupFilter: boolean;
}

export function planTcCommands(layout: HtbLayout, observed: TcState, options: TcPlanOptions): TcCommand[] {
  const { dev } = options;
  const commands: TcCommand[] = [];
  const qdiscOk = isOurQdisc(observed);
  if (!qdiscOk) commands.push(...qdiscCommands(observed, dev));
  const classes = qdiscOk ? observed.classes : [];
  const filters = qdiscOk ? observed.filters : [];
  const wanted = [layout.root, ...layout.leaves];
  const doomed = classesToDelete(classes, wanted);
  for (const handle of doomed)
    commands.push({ purpose: 'class', args: ['class', 'del', 'dev', dev, 'classid', handle] });
  const kept = new Map(classes.filter(c => !doomed.includes(c.handle)).map(c => [c.handle, c]));
  for (const want of wanted) {
    const have = kept.get(want.handle);
    if (have === undefined || !classMatches(have, want))
      commands.push({ purpose: 'class', args: classArgs(want, dev) });
  }
  if (options.cgroupFilter) commands.push(...filterCommands(filters, dev));
  return commands;
}

function isOurQdisc({ qdisc }: TcState): boolean {
  return qdisc?.kind === 'htb' && qdisc.handle === qdiscHandle && qdisc.defaultMinor === defaultMinor;
}

const htbQdiscArgs = (verb: string, dev: string): string[] => [
  'qdisc',
  verb,
  'dev',
  dev,
  'root',
  'handle',
  qdiscHandle,
  'htb',
  'default',
  defaultMinor.toString(16),
];

/** HTB cannot change its default class in place ("Change operation not supported"): an HTB 1: is deleted first. */
function qdiscCommands({ qdisc }: TcState, dev: string): TcCommand[] {
  if (qdisc?.kind === 'htb' && qdisc.handle === qdiscHandle) {
    return [
      { purpose: 'qdisc', args: ['qdisc', 'del', 'dev', dev, 'root'] },
      { purpose: 'qdisc', args: htbQdiscArgs('add', dev) },
    ];
  }
  return [{ purpose: 'qdisc', args: htbQdiscArgs('replace', dev) }];
}

/**
 * Classes of qdisc 1: that are not wanted or hang under the wrong parent (HTB cannot move a class), plus all their
 * descendants (HTB refuses to delete a class with children), deepest first.
 */
function classesToDelete(classes: readonly ObservedClass[], wanted: readonly DesiredClass[]): string[] {
  const wantedParent = new Map(wanted.map(w => [w.handle, w.parent]));
  const doomed = new Set(classes.filter(c => wantedParent.get(c.handle) !== c.parent).map(c => c.handle));
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of classes) {
      if (!doomed.has(c.handle) && doomed.has(c.parent)) {
        doomed.add(c.handle);
        grew = true;
      }
    }
  }
  const depth = depthOf(classes);
  return [...doomed].sort((a, b) => depth(b) - depth(a));
}

function depthOf(classes: readonly ObservedClass[]): (handle: string) => number {
  const parentOf = new Map(classes.map(c => [c.handle, c.parent]));
  return handle => {
    let depth = 0;
    for (let at = parentOf.get(handle); at !== undefined && at !== 'root' && depth < 8; at = parentOf.get(at))
      depth += 1;
    return depth;
  };
}

function rateMatches(observed: ObservedRate | undefined, bytes: number): boolean {
  if (observed === undefined) return false;
  return 'bytes' in observed ? observed.bytes === bytes : observed.text === tcRateText(bytes);
}

export function classMatches(have: ObservedClass, want: DesiredClass): boolean {
  if (have.parent !== want.parent) return false;
  if (!rateMatches(have.rate, want.rateBytes) || !rateMatches(have.ceil, want.ceilBytes)) return false;
  if (want.prio === undefined) return true;
  return have.prio === want.prio && (have.quantum === undefined || have.quantum === want.quantum);
}

function classArgs(want: DesiredClass, dev: string): string[] {
  const args = [
    'class',
    'replace',
    'dev',
    dev,
    'parent',
    want.parent === 'root' ? qdiscHandle : want.parent,
    'classid',
    want.handle,
    'htb',
  ];
  args.push('rate', tcRateArg(want.rateBytes), 'ceil', tcRateArg(want.ceilBytes));
  if (want.prio !== undefined) args.push('prio', String(want.prio));
  args.push('quantum', String(want.quantum));
  return args;
}

function filterCommands(filters: TcState['filters'], dev: string): TcCommand[] {
  const atPref = filters.filter(f => f.pref === filterPref);
  if (atPref.length === 1 && atPref[0]?.kind === 'cgroup' && atPref[0].protocol === filterProtocol) return [];
  const add: TcCommand = {
    purpose: 'filter',
    args: [
      'filter',
      'add',
      'dev',
      dev,
      'parent',
      qdiscHandle,
      'protocol',
      filterProtocol,
      'prio',
      String(filterPref),
      'handle',
      `${qdiscMajor}:`,
      'cgroup',
    ],
  };
  if (atPref.length === 0) return [add];
  return [
    {
      purpose: 'filter',
      args: ['filter', 'del', 'dev', dev, 'parent', qdiscHandle, 'prio', String(filterPref)],
    },
    add,
  ];
}
