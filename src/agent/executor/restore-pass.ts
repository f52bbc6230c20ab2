// Returning pods that left the plan to their originals (or, with the record lost, to kubelet's values), and finding
// the pod cgroups the agent may have changed when its original-values file was found unusable.
import { errnoOf } from '../fs.ts';
import { emptyPodReport, type PodReport } from '../mechanisms/core/report.ts';
import type { PodDesired } from '../mechanisms/core/desired.ts';
import type { PodIdentity } from '../restore/original-values.ts';
import { mechanismOps } from './apply-pass.ts';
import { guarded, hasFailures, podSession, probeController, type PassContext } from './context.ts';
import { applyOomScoreAdj, oomKnob } from './oom-score.ts';
import { kubeletDefaults, recordDesired } from './restore-desired.ts';
import type { CgroupSession } from './session.ts';

export class RestorePass {
  readonly #ctx: PassContext;
  /**
   * Pod cgroups found on the node after the original-values file was found unusable: any of them may carry the
   * agent's values, so those not in the plan are returned to kubelet's values once (listed once per process).
   */
  #unrecorded: Map<string, PodIdentity> | undefined;

  constructor(ctx: PassContext) {
    this.#ctx = ctx;
  }

  /** Lists the pod cgroups once when the original-values file was unusable. */
  async prepare(): Promise<void> {
    if (this.#unrecorded === undefined && this.#ctx.deps.store.loadProblem !== undefined)
      this.#unrecorded = await this.#listPodCgroups();
  }

  /** Pods that may carry the agent's values and are not in `keep`. */
  candidates(keep: ReadonlySet<string>): string[] {
    const unrecorded = [...(this.#unrecorded?.keys() ?? [])];
    return [...new Set([...this.#ctx.deps.store.uids(), ...this.#ctx.applied.keys(), ...unrecorded])]
      .filter(uid => !keep.has(uid))
      .sort();
  }

  /** Every pod cgroup under the kubepods QoS directories (of the controller whose directories tell existence). */
  async #listPodCgroups(): Promise<Map<string, PodIdentity>> {
    const { layout, fs, logger } = this.#ctx.options;
    const found = new Map<string, PodIdentity>();
    for (const kubeQoS of ['Guaranteed', 'Burstable', 'BestEffort'] as const) {
      let names: string[];
      try {
        names = await fs.listDirs(layout.qosDir(probeController(layout), kubeQoS));
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') continue;
        throw error;
      }
      for (const name of names) {
        const uid = layout.podUidOf(name, kubeQoS);
        if (uid !== undefined) found.set(uid, { uid, namespace: '', name: '', kubeQoS });
      }
    }
    logger.warn(
      { pods: found.size },
      'original values lost: pod cgroups not in the plan are returned to kubelet values',
    );
    return found;
  }

  async #desired(session: CgroupSession): Promise<PodDesired> {
    const store = this.#ctx.deps.store;
    const record = store.pod(session.target.identity.uid);
    if (record && record.suspect !== true) return recordDesired(record);
    // No record and a healthy store: the agent never changed this pod, so there is nothing to put back.
    if (!record && store.loadProblem === undefined) return recordDesired(undefined);
    const defaults = await kubeletDefaults(this.#ctx.mechanisms.all, session);
    session.report.leftAsIs.push(...defaults.leftAsIs);
    return defaults.desired;
  }

  /** Who a pod being restored is: from this run's plan, else the listing after a lost record, else the record. */
  #identity(uid: string): PodIdentity {
    const record = this.#ctx.deps.store.pod(uid);
    return (
      this.#ctx.applied.get(uid) ??
      this.#unrecorded?.get(uid) ?? {
        uid,
        namespace: record?.namespace ?? '',
        name: record?.name ?? '',
        kubeQoS: record?.kubeQoS ?? 'Burstable',
      }
    );
  }

  async #pass(session: CgroupSession): Promise<void> {
    const desired = await this.#desired(session);
    await session.commit(await mechanismOps(this.#ctx.mechanisms.all, session, desired));
    const oomOf = (container: string): number | undefined => {
      const value = desired.containers.get(container)?.get(oomKnob);
      return typeof value === 'number' ? value : undefined;
    };
    await applyOomScoreAdj(session, {
      procRoot: this.#ctx.options.procRoot,
      valueFor: oomOf,
      recordOriginals: false,
    });
  }

  async restore(uid: string): Promise<PodReport> {
    const ctx = this.#ctx;
    const identity = this.#identity(uid);
    const retryAt = ctx.backoff.blockedUntil(uid, 'restore');
    if (retryAt !== undefined)
      return {
        ...emptyPodReport(identity),
        outcome: 'backoff',
        retryAt,
        failed: ctx.backoff.lastFailures(uid),
      };
    const session = podSession(ctx, identity, false);
    await guarded(ctx, session, () => this.#pass(session));
    const report = session.report;
    if (hasFailures(report)) {
      report.outcome = 'failed';
      report.retryAt = ctx.backoff.failed(uid, 'restore', report.failed);
      return report;
    }
    if (report.outcome !== 'vanished') report.outcome = 'restored';
    ctx.backoff.succeeded(uid);
    ctx.deps.store.deletePod(uid);
    await ctx.deps.store.save();
    ctx.applied.delete(uid);
    this.#unrecorded?.delete(uid);
    ctx.metrics.removePod(uid);
    return report;
  }
}
