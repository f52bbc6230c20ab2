// One pass over one cgroup owner (a pod, or the BE tier directory): reads current values, turns wanted values into
// ordered writes (the mechanisms use it through MechanismSession), records originals before the first write, then
// writes (commit: only the executor calls it), classifying every outcome.
import type { Logger } from 'pino';
import type { CgroupLayout, Controller } from '../cgroup/layout.ts';
import { errnoOf, messageOf, type AgentFs } from '../fs.ts';
import { podDirKey, type OriginalValues } from '../restore/original-values.ts';
import type { Knob } from '../mechanisms/core/knob.ts';
import { leveledWrites, type LeveledRule, type LevelNode } from '../mechanisms/core/leveled.ts';
import { emptyPodReport, type KnobRef, type PodReport } from '../mechanisms/core/report.ts';
import {
  OwnerVanishedError,
  type MechanismSession,
  type OpInput,
  type SessionTarget,
  type WriteOp,
} from '../mechanisms/core/session.ts';
import type { ExecutorMetrics } from './metrics.ts';
import type { RewriteTracker } from './rewrite-tracker.ts';

export { OwnerVanishedError, type SessionTarget, type WriteOp };

export interface SessionDeps {
  readonly fs: AgentFs;
  readonly layout: CgroupLayout;
  readonly store: OriginalValues;
  readonly metrics: ExecutorMetrics;
  readonly logger: Logger;
  readonly rewrite: RewriteTracker;
  /**
   * What the kernel refused for lack of a capability: the highest oom_score_adj it would not let the agent lower a
   * process to (below oom_score_adj_min needs CAP_SYS_RESOURCE). Any value at or below it is refused too, so such
   * writes are reported as unsupported and never tried again.
   */
  readonly refusals: { oomLowerRefusedAt?: number };
}

function refOf(file: string, container: string | null): KnobRef {
  return container === null ? { knob: file } : { knob: file, container };
}

export class CgroupSession implements MechanismSession {
  readonly report: PodReport;
  readonly deps: SessionDeps;
  readonly target: SessionTarget;
  readonly #containers = new Map<Controller, string[]>();
  readonly #vanished = new Set<string>();
  /** Files found empty that had a saved original: their value is unknown, so they are rewritten this pass. */
  readonly #torn = new Set<string>();

  constructor(deps: SessionDeps, target: SessionTarget) {
    this.deps = deps;
    this.target = target;
    this.report = emptyPodReport(target.identity);
  }

  get layout(): CgroupLayout {
    return this.deps.layout;
  }

  exists(path: string): Promise<boolean> {
    return this.deps.fs.exists(path);
  }

  recorded(dirKey: string, file: string): unknown {
    return this.deps.store.get(this.target.identity.uid, dirKey, file);
  }

  dir(controller: Controller, container: string | null): string {
    const own = this.target.dirOf(controller);
    return container === null ? own : this.deps.layout.containerDir(own, container);
  }

  /** Container directories under the owner for a controller (listed once per pass). */
  async containers(controller: Controller): Promise<string[]> {
    if (!this.deps.layout.hasController(controller)) return [];
    const cached = this.#containers.get(controller);
    if (cached) return cached.filter(name => !this.#vanished.has(name));
    const dir = this.target.dirOf(controller);
    let listing;
    try {
      listing = await this.deps.layout.listContainers(this.deps.fs, dir);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') throw new OwnerVanishedError(`${dir} vanished`);
      throw error;
    }
    for (const name of listing.refused)
      if (!this.report.refusedContainers.includes(name)) this.report.refusedContainers.push(name);
    this.#containers.set(controller, listing.names);
    return listing.names;
  }

  isVanished(container: string): boolean {
    return this.#vanished.has(container);
  }

  unsupported(knob: string, reason: string): void {
    if (!this.report.unsupported.some(u => u.knob === knob && u.reason === reason))
      this.report.unsupported.push({ knob, reason });
  }

  fail(ref: KnobRef, errno: string, message: string): void {
    this.deps.metrics.writeErrors.inc({ knob: ref.knob, errno });
    this.report.failed.push({ ...ref, errno, message });
  }

  /** A file or directory is missing: the owner vanished (throws), a container vanished, or the knob is unsupported. */
  async missing(knob: string, container: string | null, dir: string): Promise<void> {
    if (await this.deps.fs.exists(dir)) {
      this.unsupported(knob, `${knob} does not exist in ${dir}`);
      return;
    }
    if (container === null) throw new OwnerVanishedError(`${dir} vanished`);
    this.#vanished.add(container);
    if (!this.report.vanishedContainers.includes(container)) this.report.vanishedContainers.push(container);
  }

  /** The current value, or undefined when unreadable (unsupported, vanished container, or a recorded failure). */
  async read<T>(knob: Knob<T>, container: string | null, otherDir?: string): Promise<T | undefined> {
    if (container !== null && this.#vanished.has(container)) return undefined;
    if (!this.deps.layout.hasController(knob.controller)) {
      this.unsupported(knob.file, `the ${knob.controller} controller is not mounted`);
      return undefined;
    }
    const dir = otherDir ?? this.dir(knob.controller, container);
    const path = this.deps.layout.file(dir, knob.file);
    let text: string;
    try {
      text = await this.deps.fs.readFile(path);
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT')
        this.fail(refOf(knob.file, container), errnoOf(error), `reading ${path}: ${messageOf(error)}`);
      else await this.missing(knob.file, container, dir);
      return undefined;
    }
    try {
      return knob.codec.parse(text);
    } catch (error) {
      const recorded = otherDir === undefined ? this.#tornFallback(knob, container, path, text) : undefined;
      if (recorded !== undefined) return recorded;
      this.fail(refOf(knob.file, container), 'EPARSE', `${path}: ${messageOf(error)}`);
      return undefined;
    }
  }

  /**
   * An empty file the agent has a saved original for was truncated by a write that never finished (an agent killed
   * mid-write on a node whose knobs are plain files; cgroupfs itself never shows an empty numeric knob). Its value
   * is unknown, so it reads as the saved original and is rewritten whatever the comparison says: the apply pass
   * writes the plan's value, the restore pass the original, and the record is dropped as usual afterwards.
   */
  #tornFallback<T>(knob: Knob<T>, container: string | null, path: string, text: string): T | undefined {
    if (text.trim() !== '') return undefined;
    const recorded = knob.codec.schema.safeParse(this.recorded(container ?? podDirKey, knob.file));
    if (!recorded.success) return undefined;
    if (!this.#torn.has(path))
      this.deps.logger.warn({ path, original: knob.codec.show(recorded.data) }, 'empty knob file rewritten');
    this.#torn.add(path);
    return recorded.data;
  }

  /** An equal value is written anyway: the file was found torn, or its periodic drift rewrite is due. */
  #mustRewrite(path: string): boolean {
    return this.#torn.has(path) || this.deps.rewrite.due(path);
  }

  /** Range check, compare, and build the write (undefined when refused or already right). */
  op<T>(knob: Knob<T>, input: OpInput<T>): WriteOp | undefined {
    const ref = refOf(knob.file, input.container);
    const invalid = knob.codec.invalid(input.desired);
    if (invalid !== undefined) {
      this.fail(ref, 'ERANGE', `refused: ${invalid}`);
      return undefined;
    }
    const dir = this.dir(knob.controller, input.container);
    const equal = knob.codec.equal(input.current, input.desired);
    const path = this.deps.layout.file(dir, knob.file);
    const force = input.force ?? (equal && this.#mustRewrite(path));
    const lines = knob.codec.lines(input.current, input.desired, force);
    if (lines.length === 0) {
      this.report.skipped.push(ref);
      return undefined;
    }
    return {
      container: input.container,
      dir,
      file: knob.file,
      lines,
      from: knob.codec.show(input.current),
      to: knob.codec.show(input.desired),
      original: input.original ?? input.current,
    };
  }

  /** Reads and plans a plain knob on one directory. */
  async simple<T>(
    knob: Knob<T>,
    container: string | null,
    desired: T | undefined,
  ): Promise<WriteOp | undefined> {
    if (desired === undefined) return undefined;
    const current = await this.read(knob, container);
    return current === undefined ? undefined : this.op(knob, { container, current, desired });
  }

  /** Leveled writes (see leveled.ts) turned into ops; node ids are container names, '' for the owner. */
  leveled<T, V>(
    knob: Knob<V>,
    levels: readonly (readonly LevelNode<T>[])[],
    rule: LeveledRule<T>,
    toFile: (value: T) => V,
  ): WriteOp[] {
    const ops: WriteOp[] = [];
    for (const write of leveledWrites(levels, rule)) {
      const container = write.node.id === podDirKey ? null : write.node.id;
      const op = this.op(knob, {
        container,
        current: toFile(write.before),
        desired: toFile(write.value),
        original: toFile(write.node.current),
        force: write.pass === 2 && rule.equal(write.before, write.value),
      });
      if (op) ops.push(op);
    }
    for (const node of levels.flat()) {
      const touched = ops.some(op => (op.container ?? podDirKey) === node.id);
      if (!touched && rule.equal(node.current, node.desired))
        this.report.skipped.push(refOf(knob.file, node.id === podDirKey ? null : node.id));
    }
    return ops;
  }

  /** Whether an equal value on this directory is due for a forced rewrite (for building leveled nodes). */
  forceDue(
    knob: { readonly file: string; readonly controller: Controller },
    container: string | null,
  ): boolean {
    return this.#mustRewrite(this.deps.layout.file(this.dir(knob.controller, container), knob.file));
  }

  async commit(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    this.stage(ops);
    let saveError: unknown;
    if (this.target.recordOriginals)
      try {
        await this.deps.store.save();
      } catch (error) {
        saveError = error;
      }
    await this.commitStaged(ops, saveError);
  }

  /**
   * First half of a commit for a pass over many pods: records the originals the ops would overwrite (in memory).
   * The executor saves the store once for every staged pod, then calls commitStaged: one durable save per pass
   * instead of one per pod, still before any write it covers.
   */
  stage(ops: readonly WriteOp[]): void {
    if (!this.target.recordOriginals) return;
    for (const op of ops)
      this.deps.store.recordIfAbsent(this.target.identity, op.container ?? podDirKey, op.file, op.original);
  }

  /** Second half: the writes, unless saving the staged originals failed (never write what a restore could not undo). */
  async commitStaged(ops: readonly WriteOp[], saveError?: unknown): Promise<void> {
    if (ops.length === 0) return;
    if (saveError !== undefined && this.target.recordOriginals) {
      for (const op of ops)
        this.fail(
          refOf(op.file, op.container),
          errnoOf(saveError),
          `original values not saved to ${this.deps.store.path}: ${messageOf(saveError)}`,
        );
      return;
    }
    await this.#executeInOrder(ops);
  }

  /** Executes ops in order, skipping (and reporting) an op whose required earlier op failed. */
  async #executeInOrder(ops: readonly WriteOp[]): Promise<void> {
    const failed = new Set<WriteOp>();
    for (const op of ops) {
      if (op.container !== null && this.#vanished.has(op.container)) continue;
      if (op.requires?.some(required => failed.has(required))) {
        // The kernel would refuse it (burst above the quota still in force): report instead of writing.
        this.fail(
          refOf(op.file, op.container),
          'ECANCELED',
          `not written: ${op.to} needs a write that failed`,
        );
        failed.add(op);
      } else if (!(await this.#execute(op))) failed.add(op);
    }
  }

  /** Writes one op; false when a line failed (recorded in the report). */
  async #execute(op: WriteOp): Promise<boolean> {
    const path = this.deps.layout.file(op.dir, op.file);
    const ref = refOf(op.file, op.container);
    for (const line of op.lines) {
      try {
        await this.deps.fs.writeFile(path, line);
        this.deps.metrics.writes.inc({ knob: op.file });
      } catch (error) {
        const errno = errnoOf(error);
        if (errno === 'ENOENT') await this.missing(op.file, op.container, op.dir);
        else this.fail(ref, errno, `writing "${line}" to ${path}: ${messageOf(error)}`);
        return false;
      }
    }
    this.deps.rewrite.wrote(path);
    if (!this.report.written.some(w => w.knob === ref.knob && w.container === ref.container))
      this.report.written.push(ref);
    const { identity } = this.target;
    this.deps.logger.info(
      {
        uid: identity.uid,
        namespace: identity.namespace,
        pod: identity.name,
        container: op.container ?? undefined,
        knob: op.file,
        from: op.from,
        to: op.to,
      },
      'cgroup write',
    );
    return true;
  }
}
