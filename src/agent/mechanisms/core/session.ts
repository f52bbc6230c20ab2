// What a mechanism may do with one pass over one cgroup owner (a pod, or the BE tier directory): read current values
// and turn wanted values into ordered writes. The executor's CgroupSession implements it and alone commits the
// writes (originals saved first); mechanisms never write.
import type { CgroupLayout, Controller } from '../../cgroup/layout.ts';
import type { PodIdentity } from '../../restore/original-values.ts';
import type { Knob } from './knob.ts';
import type { LeveledRule, LevelNode } from './leveled.ts';
import type { KnobRef, PodReport } from './report.ts';

export interface SessionTarget {
  readonly identity: PodIdentity;
  /** The owner's directory for a controller. */
  dirOf(controller: Controller): string;
  /** Its parent directory (where an empty v1 cpuset.mems is copied from). */
  parentDirOf(controller: Controller): string;
  /** Record originals before writing (pods being applied); off for restores and for the tier directory. */
  readonly recordOriginals: boolean;
}

export interface WriteOp {
  readonly container: string | null;
  readonly dir: string;
  readonly file: string;
  readonly lines: readonly string[];
  readonly from: string;
  readonly to: string;
  /** The value before this pass, kept as the original when none is recorded yet. */
  readonly original: unknown;
  /** Earlier ops of the same commit this one is only valid after (a raised burst needs its raised quota). */
  readonly requires?: readonly WriteOp[];
}

export interface OpInput<T> {
  readonly container: string | null;
  readonly current: T;
  readonly desired: T;
  /** Original value for the record when it differs from current (a pass-2 write after a pass-1 write). */
  readonly original?: T;
  /** Overrides the forced-rewrite clock (leveled writes decide it per node). */
  readonly force?: boolean;
}

export interface MechanismSession {
  readonly target: SessionTarget;
  /** What the pass did so far (read only for mechanisms: they report through fail and unsupported). */
  readonly report: Readonly<PodReport>;
  readonly layout: CgroupLayout;
  dir(controller: Controller, container: string | null): string;
  /** Container directories under the owner for a controller (listed once per pass). */
  containers(controller: Controller): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** The original recorded for one of the owner's directories (podDirKey or a container name), if any. */
  recorded(dirKey: string, file: string): unknown;
  /** The current value, or undefined when unreadable (unsupported, vanished container, or a recorded failure). */
  read<T>(knob: Knob<T>, container: string | null, otherDir?: string): Promise<T | undefined>;
  /** Range check, compare, and build the write (undefined when refused or already right). */
  op<T>(knob: Knob<T>, input: OpInput<T>): WriteOp | undefined;
  /** Reads and plans a plain knob on one directory. */
  simple<T>(knob: Knob<T>, container: string | null, desired: T | undefined): Promise<WriteOp | undefined>;
  /** Leveled writes (see leveled.ts) turned into ops; node ids are container names, podDirKey for the owner. */
  leveled<T, V>(
    knob: Knob<V>,
    levels: readonly (readonly LevelNode<T>[])[],
    rule: LeveledRule<T>,
    toFile: (value: T) => V,
  ): WriteOp[];
  /** Whether an equal value on this directory is due for a forced rewrite (for building leveled nodes). */
  forceDue(
    knob: { readonly file: string; readonly controller: Controller },
    container: string | null,
  ): boolean;
  fail(ref: KnobRef, errno: string, message: string): void;
  unsupported(knob: string, reason: string): void;
}

/** The owner's directory vanished (pod deleted): the pass stops for it, which is not an error. */
export class OwnerVanishedError extends Error {
  override readonly name = 'OwnerVanishedError';
}
