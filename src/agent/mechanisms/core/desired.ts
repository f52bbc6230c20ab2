// What a pod's cgroup files should hold: from its plan entry (apply) or from the original-values record or kubelet's
// defaults (restore). Values are keyed by file name; pod-level only, except container values on restore.
import type { Knob } from './knob.ts';
import type { UnsupportedKnob } from './report.ts';
import type { MechanismSession, WriteOp } from './session.ts';

export interface PodDesired {
  readonly mode: 'apply' | 'restore';
  readonly pod: ReadonlyMap<string, unknown>;
  /** Restore only: original values of container directories, by container name then file. */
  readonly containers: ReadonlyMap<string, ReadonlyMap<string, unknown>>;
  readonly unsupported: readonly UnsupportedKnob[];
}

/** The desired value of a file, checked against the codec's shape (records come from disk). */
export function wanted<T>(
  session: MechanismSession,
  knob: Knob<T>,
  value: unknown,
  container: string | null,
): T | undefined {
  if (value === undefined) return undefined;
  const parsed = knob.codec.schema.safeParse(value);
  if (parsed.success) return parsed.data;
  session.fail(
    container === null ? { knob: knob.file } : { knob: knob.file, container },
    'ERANGE',
    `refused: ${knob.file} value ${JSON.stringify(value).slice(0, 80)} is malformed`,
  );
  return undefined;
}

/** The pod-level desired value of a knob, checked. */
export function podWanted<T>(session: MechanismSession, knob: Knob<T>, desired: PodDesired): T | undefined {
  return wanted(session, knob, desired.pod.get(knob.file), null);
}

/** A container's recorded value of a knob (restore), checked. */
export function containerWanted<T>(
  session: MechanismSession,
  knob: Knob<T>,
  desired: PodDesired,
  name: string,
): T | undefined {
  return wanted(session, knob, desired.containers.get(name)?.get(knob.file), name);
}

export function isFilled(op: WriteOp | undefined): op is WriteOp {
  return op !== undefined;
}

/** Plain pod-level knobs (memory, blkio weight, throttles): one read, one compare, at most one write each. */
export async function plainOps(
  session: MechanismSession,
  knobs: readonly Knob<unknown>[],
  desired: PodDesired,
): Promise<WriteOp[]> {
  const ops: WriteOp[] = [];
  for (const knob of knobs) {
    if (!desired.pod.has(knob.file)) continue;
    const op = await session.simple(knob, null, podWanted(session, knob, desired));
    if (op) ops.push(op);
  }
  return ops;
}
