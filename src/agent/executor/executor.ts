// The one component that writes cgroup files (and oom_score_adj): applies plan pods, restores pods that left the
// plan, and writes the BE tier quota. Calls are serialised, so the plan loop and the suppress loop never interleave.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { parseCpuList } from '../../api/cpulist.ts';
import type { PlanPod } from '../../api/plan.ts';
import type { CgroupLayout, Controller } from '../cgroup/layout.ts';
import { PathRefusedError } from '../cgroup/safe-path.ts';
import { listBlockDevices, type BlockDevice } from '../discovery/block-devices.ts';
import { errnoOf, messageOf, type AgentFs } from '../fs.ts';
import type { PlanNetClass } from '../net/layout.ts';
import type { NetApplyResult, NetQos } from './net-qos.ts';
import { applyOomScoreAdj, oomKnob } from './oom-score.ts';
import type { OriginalValues, PodIdentity } from '../restore/original-values.ts';
import { kubeletDefaults, recordDesired } from './restore-desired.ts';
import { PodBackoff } from './backoff.ts';
import { maxQuotaUs, type CpuMax } from './codecs.ts';
import { knobsFor, type Knobs } from './knobs.ts';
import { quotaRatio } from './leveled.ts';
import { ExecutorMetrics, type AppliedValues } from './metrics.ts';
import { effectiveQuota, planDesired, type PodDesired } from './pod-desired.ts';
import { cpusetOps, netClassidOps, plainOps, v1CpuOps, v2CpuOps } from './pod-ops.ts';
import { emptyPodReport, type PodReport } from './report.ts';
import { RewriteTracker } from './rewrite-tracker.ts';
import { applyTierIdle } from './tier-idle.ts';
import { CgroupSession, OwnerVanishedError, type SessionDeps, type WriteOp } from './session.ts';

export interface ExecutorOptions {
  readonly fs: AgentFs;
  readonly layout: CgroupLayout;
  readonly store: OriginalValues;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly procRoot: string;
  readonly sysRoot: string;
  /** Memory values are page-aligned before writing (the kernel rounds them). Default 4096. */
  readonly pageSize?: number | undefined;
  /** Equal values are still rewritten this often (drift correction). Default 60 s. */
  readonly forceRewriteIntervalMs?: number | undefined;
  readonly backoffBaseMs?: number | undefined;
  readonly backoffMaxMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  /** Tag pods with their class's net_cls.classid (network QoS on; only where a net_cls hierarchy is mounted). */
  readonly netClassids?: boolean | undefined;
  /** The interface's egress HTB tree (network QoS on): its tc commands run here, serialised with every other write. */
  readonly net?: NetQos | undefined;
}

export interface ReconcileInput {
  readonly pods: readonly PlanPod[];
  /** Period of the BE tier quota (the plan's cpuSuppress.cfsPeriodUs). */
  readonly tierPeriodUs?: number | undefined;
  /** cpu.idle=1 on the BE tier directory (the plan's cpuSuppress.beIdle); false or absent: restored if changed. */
  readonly tierIdle?: boolean | undefined;
}

export interface ReconcileResult {
  readonly applied: PodReport[];
  readonly restored: PodReport[];
  /** The BE tier directory's cpu.idle pass, when it read or wrote anything. */
  readonly tier?: PodReport | undefined;
}

export interface BeTierReport {
  readonly quotaUs: number;
  readonly periodUs: number;
  /** The kubepods besteffort directory. */
  readonly tier: PodReport;
  /** BE-class pods whose own quota was capped (or uncapped) with it. */
  readonly pods: PodReport[];
}

const defaultTierPeriodUs = 100000;

function hasFailures(report: PodReport): boolean {
  return report.failed.length > 0;
}

export class CgroupExecutor {
  readonly knobs: Knobs;
  readonly metrics: ExecutorMetrics;
  readonly #options: ExecutorOptions;
  readonly #deps: SessionDeps;
  readonly #backoff: PodBackoff;
  readonly #applied = new Map<string, PlanPod>();
  #tier: CpuMax | null = null;
  /** False until the tier in force is written or read: a restarted agent must not uncap BE pods before. */
  #tierKnown = false;
  #tierPeriodUs = defaultTierPeriodUs;
  #lock: Promise<unknown> = Promise.resolve();
  /**
   * Pod cgroups found on the node after the original-values file was found unusable: any of them may carry the
   * agent's values, so those not in the plan are returned to kubelet's values once (listed once per process).
   */
  #unrecorded: Map<string, PodIdentity> | undefined;

  constructor(options: ExecutorOptions) {
    const now = options.now ?? Date.now;
    this.#options = options;
    this.knobs = knobsFor(
      options.layout.version,
      options.pageSize ?? 4096,
      options.netClassids === true && options.layout.hasController('net_cls'),
    );
    this.metrics = new ExecutorMetrics(options.registry);
    this.#deps = {
      fs: options.fs,
      layout: options.layout,
      store: options.store,
      metrics: this.metrics,
      logger: options.logger,
      rewrite: new RewriteTracker(options.forceRewriteIntervalMs ?? 60_000, now),
      refusals: {},
    };
    this.#backoff = new PodBackoff({
      baseMs: options.backoffBaseMs ?? 1000,
      maxMs: options.backoffMaxMs ?? 300_000,
      now,
    });
  }

  /** The BE tier quota in force (null: unlimited). */
  get beTier(): CpuMax | null {
    return this.#tier;
  }

  #exclusive<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(async () => {
      const end = this.metrics.applyDuration.startTimer({ operation });
      try {
        return await work();
      } finally {
        end();
      }
    });
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Applies every plan pod, then restores pods the agent changed that are no longer in the plan. */
  reconcile(input: ReconcileInput): Promise<ReconcileResult> {
    return this.#exclusive('apply', async () => {
      if (input.tierPeriodUs !== undefined) this.#tierPeriodUs = input.tierPeriodUs;
      if (!this.#tierKnown) await this.#adoptTier();
      if (this.#unrecorded === undefined && this.#deps.store.loadProblem !== undefined)
        this.#unrecorded = await this.#listPodCgroups();
      const devices = await listBlockDevices(this.#options.fs, this.#options.sysRoot);
      const applied: PodReport[] = [];
      for (const pod of input.pods) applied.push(await this.#applyPod(pod, devices));
      const keep = new Set(input.pods.map(pod => pod.uid));
      const restored: PodReport[] = [];
      for (const uid of this.#restoreCandidates(keep)) restored.push(await this.#restorePod(uid));
      for (const pod of input.pods) this.#applied.set(pod.uid, pod);
      this.#backoff.keepOnly(new Set([...keep, ...this.#restoreCandidates(keep)]));
      const tier = await this.#tierIdle(input.tierIdle === true);
      this.#deps.rewrite.prune();
      return { applied, restored, tier };
    });
  }

  #restoreCandidates(keep: ReadonlySet<string>): string[] {
    const unrecorded = [...(this.#unrecorded?.keys() ?? [])];
    return [...new Set([...this.#deps.store.uids(), ...this.#applied.keys(), ...unrecorded])]
      .filter(uid => !keep.has(uid))
      .sort();
  }

  /** Every pod cgroup under the kubepods QoS directories (of the controller whose directories tell existence). */
  async #listPodCgroups(): Promise<Map<string, PodIdentity>> {
    const { layout, fs } = this.#options;
    const found = new Map<string, PodIdentity>();
    for (const kubeQoS of ['Guaranteed', 'Burstable', 'BestEffort'] as const) {
      let names: string[];
      try {
        names = await fs.listDirs(layout.qosDir(this.#probeController(), kubeQoS));
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') continue;
        throw error;
      }
      for (const name of names) {
        const uid = layout.podUidOf(name, kubeQoS);
        if (uid !== undefined) found.set(uid, { uid, namespace: '', name: '', kubeQoS });
      }
    }
    this.#options.logger.warn(
      { pods: found.size },
      'original values lost: pod cgroups not in the plan are returned to kubelet values',
    );
    return found;
  }

  #session(identity: PodIdentity, recordOriginals: boolean): CgroupSession {
    const { layout } = this.#options;
    return new CgroupSession(this.#deps, {
      identity,
      recordOriginals,
      dirOf: controller => layout.podDir(controller, identity.uid, identity.kubeQoS),
      parentDirOf: controller => layout.qosDir(controller, identity.kubeQoS),
    });
  }

  /** The controller whose pod directory tells whether the pod's cgroups exist. */
  #probeController(): Controller {
    const { layout } = this.#options;
    return (['cpu', 'memory', 'cpuset', 'blkio'] as const).find(c => layout.hasController(c)) ?? 'cpu';
  }

  async #assertExists(session: CgroupSession): Promise<void> {
    const dir = session.target.dirOf(this.#probeController());
    if (!(await this.#options.fs.exists(dir))) throw new OwnerVanishedError(`${dir} does not exist`);
  }

  async #weightFile(session: CgroupSession): Promise<string | undefined> {
    const knobs = this.knobs;
    const candidates = knobs.version === 'v1' ? knobs.blkioWeights : [knobs.bfqWeight, knobs.ioWeight];
    if (!this.#options.layout.hasController('blkio')) return undefined;
    for (const knob of candidates) {
      if (await this.#options.fs.exists(this.#options.layout.file(session.dir('blkio', null), knob.file)))
        return knob.file;
    }
    return undefined;
  }

  async #podOps(session: CgroupSession, desired: PodDesired): Promise<WriteOp[]> {
    const k = this.knobs;
    if (k.version === 'v1') {
      const plain = [k.memoryLimit, k.memorySoftLimit, ...k.blkioWeights, ...k.throttles.map(t => t.knob)];
      return [
        ...(await cpusetOps(session, k.cpus, k.mems, desired)),
        ...(await v1CpuOps(session, k, desired)),
        ...(await plainOps(session, plain, desired)),
        ...(await netClassidOps(session, k.netClassid, desired)),
      ];
    }
    const plain = [k.memoryMin, k.memoryLow, k.memoryHigh, k.memoryMax, k.bfqWeight, k.ioWeight, k.ioMax];
    return [
      ...(await cpusetOps(session, k.cpus, undefined, desired)),
      ...(await v2CpuOps(session, k, desired)),
      ...(await plainOps(session, plain, desired)),
    ];
  }

  /** Runs one pod's pass; vanished pods and refused paths end the pass for that pod only. */
  async #guarded(session: CgroupSession, work: () => Promise<void>): Promise<void> {
    try {
      await this.#assertExists(session);
      await work();
    } catch (error) {
      if (error instanceof OwnerVanishedError) {
        session.report.outcome = 'vanished';
        return;
      }
      const errno = error instanceof PathRefusedError ? 'EPERM' : errnoOf(error);
      session.fail({ knob: 'pod' }, errno, messageOf(error));
      this.#options.logger.error({ uid: session.target.identity.uid, err: error }, 'pod pass failed');
    }
  }

  #specKey(pod: PlanPod): string {
    return JSON.stringify([pod, pod.qosClass === 'BE' ? this.#tier : null]);
  }

  async #applyPod(pod: PlanPod, devices: readonly BlockDevice[]): Promise<PodReport> {
    const specKey = this.#specKey(pod);
    const retryAt = this.#backoff.blockedUntil(pod.uid, specKey);
    if (retryAt !== undefined)
      return {
        ...emptyPodReport(pod),
        outcome: 'backoff',
        retryAt,
        failed: this.#backoff.lastFailures(pod.uid),
      };
    const session = this.#session(pod, true);
    const listed = new Set<string>();
    await this.#guarded(session, async () => {
      const weightFile = await this.#weightFile(session);
      const desired = planDesired(pod, { knobs: this.knobs, weightFile, devices, beTier: this.#tier });
      for (const unsupported of desired.unsupported)
        session.unsupported(unsupported.knob, unsupported.reason);
      await session.commit(await this.#podOps(session, desired));
      await applyOomScoreAdj(session, {
        procRoot: this.#options.procRoot,
        valueFor: () => pod.oomScoreAdj,
        recordOriginals: true,
      });
      for (const controller of ['cpu', 'cpuset', 'memory'] as const)
        for (const name of await session.containers(controller)) listed.add(name);
      if (listed.size > 0) this.#deps.store.keepContainers(pod.uid, listed);
    });
    const report = session.report;
    if (report.outcome !== 'vanished') report.outcome = hasFailures(report) ? 'failed' : 'applied';
    if (hasFailures(report)) report.retryAt = this.#backoff.failed(pod.uid, specKey, report.failed);
    else this.#backoff.succeeded(pod.uid);
    if (report.outcome === 'vanished') this.metrics.removePod(pod.uid);
    else
      this.metrics.setPod(
        pod.uid,
        { qos: pod.qosClass, namespace: pod.namespace, pod: pod.name },
        this.#appliedValues(pod, report),
      );
    return report;
  }

  #appliedValues(pod: PlanPod, report: PodReport): AppliedValues {
    const ok = appliedCheck(report);
    const k = this.knobs;
    const weightOk = (k.version === 'v1' ? k.blkioWeights : [k.bfqWeight, k.ioWeight]).some(knob =>
      ok(knob.file),
    );
    const oomFailed = report.failed.some(f => f.knob === oomKnob);
    return {
      shares: ok(k.version === 'v1' ? k.shares.file : k.weight.file) ? pod.cpu.shares : null,
      cfsQuotaUs: ok(k.version === 'v1' ? k.quota.file : k.cpuMax.file)
        ? effectiveQuota(pod, this.#tier).quotaUs
        : null,
      cpusetSize: ok(k.cpus.file) ? parseCpuList(pod.cpu.cpuset).length : null,
      memory: appliedMemory(k, pod, ok),
      oomScoreAdj: report.oom && !oomFailed ? pod.oomScoreAdj : null,
      blkioWeight: weightOk ? pod.blkio.weight : null,
    };
  }

  async #restoreDesired(session: CgroupSession): Promise<PodDesired> {
    const record = this.#deps.store.pod(session.target.identity.uid);
    if (record && record.suspect !== true) return recordDesired(record);
    // No record and a healthy store: the agent never changed this pod, so there is nothing to put back.
    if (!record && this.#deps.store.loadProblem === undefined) return recordDesired(undefined);
    const parentDir = this.#options.layout.qosDir('cpuset', session.target.identity.kubeQoS);
    const parentCpus = this.#options.layout.hasController('cpuset')
      ? await session.read(this.knobs.cpus, null, parentDir)
      : undefined;
    const defaults = kubeletDefaults(this.knobs, parentCpus);
    session.report.leftAsIs.push(...defaults.leftAsIs);
    return defaults.desired;
  }

  /** Who a pod being restored is: from this run's plan, else the listing after a lost record, else the record. */
  #restoreIdentity(uid: string): PodIdentity {
    const record = this.#deps.store.pod(uid);
    return (
      this.#applied.get(uid) ??
      this.#unrecorded?.get(uid) ?? {
        uid,
        namespace: record?.namespace ?? '',
        name: record?.name ?? '',
        kubeQoS: record?.kubeQoS ?? 'Burstable',
      }
    );
  }

  async #restorePod(uid: string): Promise<PodReport> {
    const identity = this.#restoreIdentity(uid);
    const retryAt = this.#backoff.blockedUntil(uid, 'restore');
    if (retryAt !== undefined)
      return {
        ...emptyPodReport(identity),
        outcome: 'backoff',
        retryAt,
        failed: this.#backoff.lastFailures(uid),
      };
    const session = this.#session(identity, false);
    await this.#guarded(session, async () => {
      const desired = await this.#restoreDesired(session);
      await session.commit(await this.#podOps(session, desired));
      const oomOf = (container: string): number | undefined => {
        const value = desired.containers.get(container)?.get(oomKnob);
        return typeof value === 'number' ? value : undefined;
      };
      await applyOomScoreAdj(session, {
        procRoot: this.#options.procRoot,
        valueFor: oomOf,
        recordOriginals: false,
      });
    });
    const report = session.report;
    if (hasFailures(report)) {
      report.outcome = 'failed';
      report.retryAt = this.#backoff.failed(uid, 'restore', report.failed);
      return report;
    }
    if (report.outcome !== 'vanished') report.outcome = 'restored';
    this.#backoff.succeeded(uid);
    this.#deps.store.deletePod(uid);
    await this.#deps.store.save();
    this.#applied.delete(uid);
    this.#unrecorded?.delete(uid);
    this.metrics.removePod(uid);
    return report;
  }

  /** Brings the interface's HTB tree to the plan's classes (undefined without network QoS). */
  applyNetwork(classes: readonly PlanNetClass[]): Promise<NetApplyResult | undefined> {
    const net = this.#options.net;
    if (!net) return Promise.resolve(undefined);
    return this.#exclusive('net', () => this.#counted(() => net.apply(classes)));
  }

  /** Deletes the HTB tree (plan deleted, restore): the interface gets the kernel's default root qdisc back. */
  removeNetwork(): Promise<NetApplyResult | undefined> {
    const net = this.#options.net;
    if (!net) return Promise.resolve(undefined);
    return this.#exclusive('net', () => this.#counted(() => net.remove()));
  }

  async #counted(run: () => Promise<NetApplyResult>): Promise<NetApplyResult> {
    try {
      const result = await run();
      if (result.commands.length > 0) this.metrics.writes.inc({ knob: 'tc' }, result.commands.length);
      return result;
    } catch (error) {
      this.metrics.writeErrors.inc({ knob: 'tc', errno: errnoOf(error) });
      throw error;
    }
  }

  /**
   * Sets the BE tier quota (-1: unlimited) on the kubepods besteffort directory, and caps each BE-class pod's own
   * quota at it (pods with requests sit under burstable/ and would escape the tier otherwise). Lowering: pods
   * first, then the tier; raising: the tier first (a child may not exceed its parent on v1).
   */
  writeBeTierQuota(quotaUs: number): Promise<BeTierReport> {
    if (!Number.isInteger(quotaUs) || (quotaUs !== -1 && (quotaUs < 1000 || quotaUs > maxQuotaUs))) {
      return Promise.reject(new RangeError(`BE tier quota ${quotaUs} is neither -1 nor 1000..${maxQuotaUs}`));
    }
    return this.#exclusive('be_tier', async () => {
      const periodUs = this.#tierPeriodUs;
      const desired: CpuMax = { quotaUs, periodUs };
      this.#tier = quotaUs === -1 ? null : desired;
      this.#tierKnown = true;
      const tier = this.#tierSession();
      const current = await this.#readTier(tier);
      const lowering = current !== undefined && quotaRatio(desired) < quotaRatio(current);
      const pods: PodReport[] = [];
      if (lowering) pods.push(...(await this.#capBePods()));
      if (current !== undefined) await tier.commit(this.#tierOps(tier, current, desired));
      if (!lowering) pods.push(...(await this.#capBePods()));
      tier.report.outcome = hasFailures(tier.report) ? 'failed' : 'applied';
      return { quotaUs, periodUs, tier: tier.report, pods };
    });
  }

  /** cpu.idle on the besteffort directory (tier-idle.ts); undefined when it was neither wanted nor ever changed. */
  async #tierIdle(wanted: boolean): Promise<PodReport | undefined> {
    const tier = this.#tierSession();
    try {
      await applyTierIdle(tier, this.knobs, this.#deps.store, wanted);
    } catch (error) {
      if (!(error instanceof OwnerVanishedError)) throw error;
      tier.fail(
        { knob: this.knobs.idle.file },
        'ENOENT',
        `the besteffort cgroup does not exist: ${error.message}`,
      );
    }
    const report = tier.report;
    const touched =
      report.written.length + report.skipped.length + report.failed.length + report.unsupported.length;
    if (touched === 0) return undefined;
    report.outcome = hasFailures(report) ? 'failed' : 'applied';
    return report;
  }

  /** The quota the besteffort directory holds now (-1 unlimited), or undefined when it cannot be read. */
  readBeTierQuota(): Promise<number | undefined> {
    return this.#exclusive('be_tier', async () => {
      const tier = this.#tierSession();
      return (await this.#readTier(tier))?.quotaUs;
    });
  }

  /** The quota a previous agent left on the besteffort directory is in force: BE pods outside it get it too. */
  async #adoptTier(): Promise<void> {
    const current = await this.#readTier(this.#tierSession());
    if (current === undefined) return;
    this.#tier = current.quotaUs === -1 ? null : current;
    this.#tierKnown = true;
  }

  #tierSession(): CgroupSession {
    const { layout } = this.#options;
    return new CgroupSession(this.#deps, {
      identity: { uid: '', namespace: '', name: 'kubepods-besteffort', kubeQoS: 'BestEffort' },
      recordOriginals: false,
      dirOf: controller => layout.qosDir(controller, 'BestEffort'),
      parentDirOf: controller => layout.qosDir(controller, 'Guaranteed'),
    });
  }

  async #readTier(tier: CgroupSession): Promise<CpuMax | undefined> {
    const k = this.knobs;
    try {
      if (k.version === 'v2') return await tier.read(k.cpuMax, null);
      const quotaUs = await tier.read(k.quota, null);
      const periodUs = await tier.read(k.period, null);
      return quotaUs === undefined || periodUs === undefined ? undefined : { quotaUs, periodUs };
    } catch (error) {
      if (!(error instanceof OwnerVanishedError)) throw error;
      tier.fail(
        { knob: k.version === 'v1' ? k.quota.file : k.cpuMax.file },
        'ENOENT',
        `the besteffort cgroup does not exist: ${error.message}`,
      );
      return undefined;
    }
  }

  #tierOps(tier: CgroupSession, current: CpuMax, desired: CpuMax): WriteOp[] {
    const k = this.knobs;
    if (k.version === 'v2')
      return [tier.op(k.cpuMax, { container: null, current, desired })].filter(op => op !== undefined);
    const quota = tier.op(k.quota, { container: null, current: current.quotaUs, desired: desired.quotaUs });
    const period = tier.op(k.period, {
      container: null,
      current: current.periodUs,
      desired: desired.periodUs,
    });
    return [quota, period].filter(op => op !== undefined);
  }

  async #capBePods(): Promise<PodReport[]> {
    const reports: PodReport[] = [];
    for (const pod of [...this.#applied.values()].filter(p => p.qosClass === 'BE')) {
      const session = this.#session(pod, true);
      await this.#guarded(session, async () => {
        const desired = planDesired(pod, {
          knobs: this.knobs,
          weightFile: undefined,
          devices: [],
          beTier: this.#tier,
        });
        const cpu =
          this.knobs.version === 'v1'
            ? await v1CpuOps(session, this.knobs, desired)
            : await v2CpuOps(session, this.knobs, desired);
        await session.commit(cpu);
      });
      const report = session.report;
      if (report.outcome !== 'vanished') report.outcome = hasFailures(report) ? 'failed' : 'applied';
      if (!hasFailures(report)) this.metrics.setQuota(pod.uid, effectiveQuota(pod, this.#tier).quotaUs);
      reports.push(report);
    }
    return reports;
  }
}

/** Whether a pod-level file ended up right (written or already equal). */
function appliedCheck(report: PodReport): (file: string) => boolean {
  return file =>
    report.written.some(w => w.knob === file && w.container === undefined) ||
    report.skipped.some(s => s.knob === file && s.container === undefined);
}

function appliedMemory(k: Knobs, pod: PlanPod, ok: (file: string) => boolean): AppliedValues['memory'] {
  const bytes = (file: string, value: number | null): number | null => (ok(file) ? (value ?? -1) : null);
  if (k.version === 'v1') {
    return {
      min: null,
      low: bytes(k.memorySoftLimit.file, pod.memory.lowBytes),
      high: null,
      max: bytes(k.memoryLimit.file, pod.memory.maxBytes),
    };
  }
  return {
    min: bytes(k.memoryMin.file, pod.memory.minBytes ?? 0),
    low: bytes(k.memoryLow.file, pod.memory.lowBytes ?? 0),
    high: bytes(k.memoryHigh.file, pod.memory.highBytes),
    max: bytes(k.memoryMax.file, pod.memory.maxBytes),
  };
}
