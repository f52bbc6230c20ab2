// oom_score_adj for every process of a pod's containers: <proc>/<pid>/oom_score_adj for each pid listed in the
// container cgroup's cgroup.procs (v1: memory controller, else cpu; v2: the unified directory). Re-checked on
// every pass because containers start new processes; a pid that exits meanwhile is fine (ENOENT/ESRCH).
import { resolveUnder } from '../cgroup/safe-path.ts';
import type { Controller } from '../cgroup/layout.ts';
import { errnoOf, messageOf } from '../fs.ts';
import type { CgroupSession } from './session.ts';

export const oomKnob = 'oom_score_adj';
const pidPattern = /^[1-9][0-9]{0,9}$/;

export interface OomTarget {
  readonly procRoot: string;
  /** The value for a container's processes; undefined leaves them (restore without a record). */
  valueFor(container: string): number | undefined;
  /** Keep the first value seen per container before changing it (apply), not when putting it back (restore). */
  readonly recordOriginals: boolean;
}

interface PendingWrite {
  readonly container: string;
  readonly pid: string;
  readonly path: string;
  readonly current: number;
  readonly value: number;
}

interface Tally {
  written: number;
  unchanged: number;
  vanishedPids: number;
}

function procsController(session: CgroupSession): Controller {
  return session.deps.layout.version === 'v1' && session.deps.layout.hasController('memory')
    ? 'memory'
    : 'cpu';
}

function isGone(errno: string): boolean {
  return errno === 'ENOENT' || errno === 'ESRCH';
}

async function containerPids(
  session: CgroupSession,
  controller: Controller,
  container: string,
): Promise<string[] | undefined> {
  const dir = session.dir(controller, container);
  const path = session.deps.layout.file(dir, 'cgroup.procs');
  try {
    const lines = (await session.deps.fs.readFile(path)).split('\n').filter(line => line !== '');
    const bad = lines.find(line => !pidPattern.test(line));
    if (bad !== undefined)
      session.fail({ knob: oomKnob, container }, 'EPARSE', `${path} lists "${bad.slice(0, 32)}", not a pid`);
    return lines.filter(line => pidPattern.test(line));
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') await session.missing('cgroup.procs', container, dir);
    else session.fail({ knob: oomKnob, container }, errnoOf(error), `reading ${path}: ${messageOf(error)}`);
    return undefined;
  }
}

async function readScore(
  session: CgroupSession,
  path: string,
  container: string,
  tally: Tally,
): Promise<number | undefined> {
  try {
    const text = (await session.deps.fs.readFile(path)).trim();
    if (!/^-?[0-9]+$/.test(text)) throw new Error(`"${text.slice(0, 16)}" is not an integer`);
    return Number(text);
  } catch (error) {
    if (isGone(errnoOf(error))) tally.vanishedPids++;
    else session.fail({ knob: oomKnob, container }, errnoOf(error), `reading ${path}: ${messageOf(error)}`);
    return undefined;
  }
}

async function pendingWrites(
  session: CgroupSession,
  target: OomTarget,
  tally: Tally,
): Promise<PendingWrite[]> {
  const controller = procsController(session);
  const pending: PendingWrite[] = [];
  for (const container of await session.containers(controller)) {
    const value = target.valueFor(container);
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < -1000 || value > 1000) {
      session.fail(
        { knob: oomKnob, container },
        'ERANGE',
        `refused: oom_score_adj ${value} is outside -1000..1000`,
      );
      continue;
    }
    for (const pid of (await containerPids(session, controller, container)) ?? []) {
      const path = resolveUnder(target.procRoot, pid, oomKnob);
      const current = await readScore(session, path, container, tally);
      if (current === undefined) continue;
      if (current === value) tally.unchanged++;
      else pending.push({ container, pid, path, current, value });
    }
  }
  return pending;
}

async function recordOriginals(session: CgroupSession, pending: readonly PendingWrite[]): Promise<boolean> {
  for (const write of pending)
    session.deps.store.recordIfAbsent(session.target.identity, write.container, oomKnob, write.current);
  try {
    await session.deps.store.save();
    return true;
  } catch (error) {
    for (const container of new Set(pending.map(write => write.container))) {
      session.fail(
        { knob: oomKnob, container },
        errnoOf(error),
        `original values not saved to ${session.deps.store.path}: ${messageOf(error)}`,
      );
    }
    return false;
  }
}

function noCapability(refusedAt: number): string {
  return (
    `lowering oom_score_adj to ${refusedAt} or below needs CAP_SYS_RESOURCE, which this agent lacks (the kernel ` +
    'refused with EACCES); not tried again until the agent restarts'
  );
}

async function write(session: CgroupSession, pending: PendingWrite, tally: Tally): Promise<void> {
  const lowers = pending.value < pending.current;
  const refusedAt = session.deps.refusals.oomLowerRefusedAt;
  if (lowers && refusedAt !== undefined && pending.value <= refusedAt) {
    session.unsupported(oomKnob, noCapability(refusedAt));
    return;
  }
  try {
    await session.deps.fs.writeFile(pending.path, String(pending.value));
    session.deps.metrics.writes.inc({ knob: oomKnob });
    tally.written++;
    const { identity } = session.target;
    session.deps.logger.info(
      {
        uid: identity.uid,
        namespace: identity.namespace,
        pod: identity.name,
        container: pending.container,
        pid: Number(pending.pid),
        knob: oomKnob,
        from: pending.current,
        to: pending.value,
      },
      'oom_score_adj write',
    );
    if (!session.report.written.some(w => w.knob === oomKnob && w.container === pending.container))
      session.report.written.push({ knob: oomKnob, container: pending.container });
  } catch (error) {
    if (lowers && (errnoOf(error) === 'EACCES' || errnoOf(error) === 'EPERM'))
      session.deps.refusals.oomLowerRefusedAt = Math.max(
        pending.value,
        session.deps.refusals.oomLowerRefusedAt ?? pending.value,
      );
    if (isGone(errnoOf(error))) tally.vanishedPids++;
    else
      session.fail(
        { knob: oomKnob, container: pending.container },
        errnoOf(error),
        `writing ${pending.value} to ${pending.path}: ${messageOf(error)}`,
      );
  }
}

export async function applyOomScoreAdj(session: CgroupSession, target: OomTarget): Promise<void> {
  const tally: Tally = { written: 0, unchanged: 0, vanishedPids: 0 };
  const pending = await pendingWrites(session, target, tally);
  if (pending.length > 0 && (!target.recordOriginals || (await recordOriginals(session, pending)))) {
    for (const each of pending) await write(session, each, tally);
  }
  session.report.oom = { ...tally };
}
