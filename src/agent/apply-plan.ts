// The node agent's kernel side: validates a NodeIsolationPlan, applies every pod through the executor (cgroups and
// oom_score_adj), restores pods that left the plan, and exposes the BE tier quota writer for the suppress loop.
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { planSchema, type NodeIsolationPlan } from '../api/plan.ts';
import type { Topology } from '../api/topology.ts';
import type { CgroupDriver } from './cgroup/layout.ts';
import { assertAbsoluteRoot } from './cgroup/safe-path.ts';
import { detectCgroupMode, layoutFor, type CgroupMode } from './discovery/cgroup-mode.ts';
import type { HierarchyKind } from './discovery/mountinfo.ts';
import { discoverTopology } from './discovery/topology.ts';
import {
  CgroupExecutor,
  type BeTierReport,
  type PassScope,
  type ReconcileResult,
} from './executor/executor.ts';
import { knobLabel, type PodReport } from './mechanisms/core/report.ts';
import { nodeFs, type AgentFs } from './fs.ts';
import { netClsUnsupportedOnV2 } from './net/net-cls.ts';
import type { PlanNetClass } from './net/layout.ts';
import type { NetApplyResult, NetQos } from './executor/net-qos.ts';
import { OriginalValues } from './restore/original-values.ts';

export interface NodeAgentOptions {
  readonly nodeName: string;
  /** Where the original cgroup values are kept (JSON with a checksum). */
  readonly stateDir: string;
  readonly cgroupRoot?: string | undefined;
  readonly procRoot?: string | undefined;
  readonly sysRoot?: string | undefined;
  /** Overrides for what discovery would find. */
  readonly hierarchy?: HierarchyKind | undefined;
  readonly driver?: CgroupDriver | undefined;
  readonly kubepodsDir?: string | undefined;
  readonly fs?: AgentFs | undefined;
  readonly logger?: Logger | undefined;
  readonly registry?: Registry | undefined;
  readonly forceRewriteIntervalMs?: number | undefined;
  readonly pageSize?: number | undefined;
  readonly backoffBaseMs?: number | undefined;
  readonly backoffMaxMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  /** Network QoS: the interface's HTB tree, and each pod tagged with its class's net_cls.classid. */
  readonly netQos?: NetQos | undefined;
}

export interface PodFailureSummary {
  readonly pod: string;
  readonly knob: string;
  readonly message: string;
}

export interface PlanApplied {
  readonly status: 'applied' | 'degraded';
  readonly nodeName: string;
  readonly pods: PodReport[];
  readonly restored: PodReport[];
  readonly counts: Readonly<Record<PodReport['outcome'], number>>;
  /** Bounded like the plan status fields (podFailures <= 256, unsupported <= 64). */
  readonly podFailures: PodFailureSummary[];
  readonly unsupported: string[];
  /** Set when the original-values file was unusable at start: restores then use kubelet defaults. */
  readonly stateProblem?: string | undefined;
  readonly tier?: BeTierReport | undefined;
  /** The BE tier directory's cpu.idle (spec.cpuSuppress.beIdle), when the agent read or wrote it. */
  readonly tierIdle?: PodReport | undefined;
}

export interface PlanRefused {
  readonly status: 'refused';
  readonly reason: string;
  readonly issues: string[];
}

export type PlanApplyReport = PlanApplied | PlanRefused;

const maxPodFailures = 256;
const maxUnsupported = 64;

function podKey(report: PodReport): string {
  return `${report.namespace}/${report.name}`.slice(0, 320);
}

interface SummaryInput {
  readonly nodeName: string;
  readonly result: ReconcileResult;
  readonly stateProblem: string | undefined;
  /** What this node cannot do at all (not per pod): reported on every pass, never retried. */
  readonly nodeUnsupported: readonly string[];
}

function summarise({ nodeName, result, stateProblem, nodeUnsupported }: SummaryInput): PlanApplied {
  const { applied: pods, restored } = result;
  const counts = { applied: 0, restored: 0, failed: 0, vanished: 0, backoff: 0 };
  for (const report of [...pods, ...restored]) counts[report.outcome]++;
  // The BE tier directory's cpu.idle pass counts in failures and unsupported knobs, not in the pod counts.
  const all = [...pods, ...restored, ...(result.tier ? [result.tier] : [])];
  const podFailures = all
    .flatMap(report =>
      report.failed.map(f => ({
        pod: podKey(report),
        knob: knobLabel(f).slice(0, 128),
        message: `${f.errno}: ${f.message}`.slice(0, 1024),
      })),
    )
    .slice(0, maxPodFailures);
  const unsupported = [
    ...new Set([
      ...nodeUnsupported,
      ...all.flatMap(report => report.unsupported.map(u => `${u.knob}: ${u.reason}`.slice(0, 256))),
    ]),
  ].slice(0, maxUnsupported);
  const degraded =
    counts.failed > 0 || counts.backoff > 0 || podFailures.length > 0 || stateProblem !== undefined;
  return {
    status: degraded ? 'degraded' : 'applied',
    nodeName,
    pods,
    restored,
    tierIdle: result.tier,
    counts,
    podFailures,
    unsupported,
    stateProblem,
  };
}

export class NodeAgent {
  readonly nodeName: string;
  readonly mode: CgroupMode;
  readonly executor: CgroupExecutor;
  readonly #options: NodeAgentOptions;
  readonly #store: OriginalValues;
  readonly #logger: Logger;
  #lastPlan: NodeIsolationPlan | undefined;
  /** The object the last accepted plan was parsed from. */
  #lastInput: unknown;

  private constructor(
    options: NodeAgentOptions,
    mode: CgroupMode,
    store: OriginalValues,
    executor: CgroupExecutor,
  ) {
    this.nodeName = options.nodeName;
    this.#options = options;
    this.#logger = options.logger ?? pino({ enabled: false });
    this.mode = mode;
    this.#store = store;
    this.executor = executor;
  }

  static async create(options: NodeAgentOptions): Promise<NodeAgent> {
    const fs = options.fs ?? nodeFs;
    const logger = options.logger ?? pino({ enabled: false });
    const procRoot = assertAbsoluteRoot(options.procRoot ?? '/proc', 'proc root');
    const sysRoot = assertAbsoluteRoot(options.sysRoot ?? '/sys', 'sys root');
    const mode = await detectCgroupMode({
      fs,
      cgroupRoot: options.cgroupRoot,
      procRoot,
      hierarchy: options.hierarchy,
      driver: options.driver,
      kubepodsDir: options.kubepodsDir,
    });
    const store = await OriginalValues.load(options.stateDir, logger);
    const executor = new CgroupExecutor({
      fs,
      layout: layoutFor(mode),
      store,
      registry: options.registry ?? new Registry(),
      logger,
      procRoot,
      sysRoot,
      pageSize: options.pageSize,
      forceRewriteIntervalMs: options.forceRewriteIntervalMs,
      backoffBaseMs: options.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs,
      now: options.now,
      netClassids: options.netQos !== undefined,
      net: options.netQos,
    });
    logger.info(
      { hierarchy: mode.hierarchy, driver: mode.driver, kubepods: mode.kubepodsDir, root: mode.cgroupRoot },
      'cgroup layout discovered',
    );
    return new NodeAgent({ ...options, logger }, mode, store, executor);
  }

  /**
   * Validates the whole plan first: an invalid plan or one for another node changes nothing. `scope` (default every
   * pod) narrows the pass to what changed (executor.ts, PassScope).
   */
  async applyPlan(plan: unknown, scope?: PassScope): Promise<PlanApplyReport> {
    // The object last accepted, passed again (drift steps, new-cgroup passes), was validated then: plans are never
    // mutated in place, so its parse is reused instead of re-validating every pod on every pass.
    const parsed =
      plan !== undefined && plan === this.#lastInput && this.#lastPlan !== undefined
        ? { success: true as const, data: this.#lastPlan }
        : planSchema.safeParse(plan);
    if (!parsed.success) {
      return {
        status: 'refused',
        reason: 'plan failed validation',
        issues: parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`),
      };
    }
    const { spec } = parsed.data;
    if (spec.nodeName !== this.nodeName) {
      return {
        status: 'refused',
        reason: `plan is for node "${spec.nodeName}", this agent runs on "${this.nodeName}"`,
        issues: [],
      };
    }
    const result = await this.executor.reconcile({
      pods: spec.pods,
      tierPeriodUs: spec.cpuSuppress.cfsPeriodUs,
      tierIdle: spec.cpuSuppress.beIdle === true,
      scope,
    });
    this.#lastPlan = parsed.data;
    this.#lastInput = plan;
    return this.#summary(result);
  }

  /** Re-applies the last accepted plan: new processes get their oom_score_adj, drifted values are rewritten. */
  async reapply(): Promise<PlanApplyReport | undefined> {
    return this.#lastPlan === undefined ? undefined : this.applyPlan(this.#lastPlan);
  }

  /**
   * The plan was deleted: every pod the agent changed gets its original values back, the BE tier goes unlimited and
   * its cpu.idle (and the weight it hid) back to the originals.
   */
  async deletePlan(): Promise<PlanApplied> {
    const result = await this.executor.reconcile({ pods: [], tierIdle: false });
    this.#lastPlan = undefined;
    this.#lastInput = undefined;
    const tier = await this.executor.writeBeTierQuota(-1);
    try {
      await this.executor.removeNetwork();
    } catch (error) {
      // The cgroups are restored whatever tc says; the next restore (or agent --restore) tries again.
      this.#logger.error({ err: error }, 'network QoS not removed');
    }
    return { ...this.#summary(result), tier };
  }

  /** The plan's egress classes on the interface (undefined without network QoS). */
  applyNetwork(classes: readonly PlanNetClass[]): Promise<NetApplyResult | undefined> {
    return this.executor.applyNetwork(classes);
  }

  #summary(result: ReconcileResult): PlanApplied {
    return summarise({
      nodeName: this.nodeName,
      result,
      stateProblem: this.#store.loadProblem,
      nodeUnsupported: this.nodeUnsupported,
    });
  }

  /** What this node cannot enforce whatever the plan says (reported once per knob, never retried). */
  get nodeUnsupported(): string[] {
    if (this.#options.netQos === undefined || this.executor.knobs.has('net_cls.classid')) return [];
    return [
      this.mode.version === 'v2'
        ? `net_cls.classid: ${netClsUnsupportedOnV2}`
        : `net_cls.classid: no cgroup v1 hierarchy carries net_cls under ${this.mode.cgroupRoot}; the agent does not ` +
          'mount one (that needs CAP_SYS_ADMIN, docs/decisions/0008): pods are not tagged',
    ].map(line => line.slice(0, 256));
  }

  /** For the suppress loop: the BE tier quota in microseconds per the plan's suppress period, -1 for unlimited. */
  writeBeTierQuota(quotaUs: number): Promise<BeTierReport> {
    return this.executor.writeBeTierQuota(quotaUs);
  }

  /** The BE tier quota in the kernel now (-1 unlimited): the suppress loop's starting point. */
  readBeTierQuota(): Promise<number | undefined> {
    return this.executor.readBeTierQuota();
  }

  /**
   * writeBeTierQuota as the suppress loop's sink: resolves once the besteffort directory holds the quota and throws
   * (with the errno) when it does not. Failures on individual BE pods are logged, not thrown: the tier is in force.
   */
  beTierQuotaSink(): (quotaUs: number) => Promise<void> {
    return async quotaUs => {
      const report = await this.executor.writeBeTierQuota(quotaUs);
      const failure = report.tier.failed[0];
      if (failure)
        throw new Error(`BE tier quota ${quotaUs} not written: ${failure.errno}: ${failure.message}`);
      const podFailures = report.pods.flatMap(p =>
        p.failed.map(f => ({ pod: `${p.namespace}/${p.name}`, ...f })),
      );
      if (podFailures.length > 0)
        this.#logger.warn({ quotaUs, podFailures }, 'BE tier quota: some BE pods not capped');
    };
  }

  discoverTopology(): Promise<Topology> {
    return discoverTopology(this.#options.fs ?? nodeFs, this.#options.sysRoot ?? '/sys');
  }
}

export function createNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  return NodeAgent.create(options);
}
