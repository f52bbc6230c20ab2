// The cluster controller: informers -> work queue -> one plan per node, policy status, leader election.
import type { Logger } from 'pino';
import { apiVersion } from '../api/group.ts';
import type { LabelSelector } from '../api/meta.ts';
import { selectorMatches } from '../api/selector.ts';
import { errorMessage, isConflict } from '../kube/errors.ts';
import { Informer, type InformerSource } from '../kube/informer.ts';
import type { CachedNode, CachedPlan, CachedPod, CachedPolicy } from '../kube/transforms.ts';
import type { ClusterWriter } from '../kube/writers.ts';
import { canonicalJson } from '../api/canonical-json.ts';
import { PodIndex, type ClusterState, type RejectedPlan, type WrittenPlan } from './cluster-state.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics } from './metrics.ts';
import { desiredPolicyStatuses } from './policy-status.ts';
import { PodCacheBehindError } from './pin-guard.ts';
import { reconcileNode } from './reconcile-node.ts';
import { defaultTopologyReplanIntervalMs, TopologyGate } from './topology-gate.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerSources {
  readonly policies: InformerSource<CachedPolicy>;
  readonly nodes: InformerSource<CachedNode>;
  readonly pods: InformerSource<CachedPod>;
  readonly plans: InformerSource<CachedPlan>;
}

export interface ControllerOptions {
  readonly concurrency: number;
  readonly debounceMs: number;
  readonly maxWaitMs: number;
  readonly stallMs: number;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  readonly events: EventRecorder;
  /** At most one adoption of a newly reported topology per node per interval (--topology-replan-interval). */
  readonly topologyReplanIntervalMs?: number;
}

const statusKey = 'status';
/** The status of each policy condition that is worth a Warning event. */
const warningStatus: Readonly<Record<string, string>> = {
  Ready: 'False',
  Conflict: 'True',
  NodesPlannable: 'False',
};
const nodeKey = (name: string): string => `node:${name}`;

function withoutVersion(object: { metadata: object }): string {
  return canonicalJson({ ...object, metadata: { ...object.metadata, resourceVersion: undefined } });
}

export class Controller {
  private readonly writer: ClusterWriter;
  private readonly options: ControllerOptions;
  private readonly podIndex = new PodIndex();
  private readonly written = new Map<string, WrittenPlan>();
  private readonly rejectedPlans = new Map<string, RejectedPlan>();
  private readonly policies: Informer<CachedPolicy>;
  private readonly nodes: Informer<CachedNode>;
  private readonly pods: Informer<CachedPod>;
  private readonly plans: Informer<CachedPlan>;
  private queue: WorkQueue | undefined;
  private leading = false;
  private readonly topologyGate: TopologyGate;
  /** One pending deferred re-plan per node (a topology report waiting out the interval). */
  private readonly replanTimers = new Map<string, NodeJS.Timeout>();

  constructor(sources: ControllerSources, writer: ClusterWriter, options: ControllerOptions) {
    this.writer = writer;
    this.options = options;
    this.topologyGate = new TopologyGate(options.topologyReplanIntervalMs ?? defaultTopologyReplanIntervalMs);
    const informerOptions = {
      stallMs: options.stallMs,
      backoff: { initialMs: 500, maxMs: 30_000 },
      logger: options.logger,
    };
    const restarts = (resource: string) => () => {
      options.metrics.informerRestarts.inc({ resource });
    };
    this.policies = new Informer(
      sources.policies,
      this.policyHandlers(restarts('nodeqospolicies')),
      informerOptions,
    );
    this.nodes = new Informer(sources.nodes, this.nodeHandlers(restarts('nodes')), informerOptions);
    this.pods = new Informer(sources.pods, this.podHandlers(restarts('pods')), informerOptions);
    this.plans = new Informer(
      sources.plans,
      this.planHandlers(restarts('nodeisolationplans')),
      informerOptions,
    );
  }

  get state(): ClusterState {
    return {
      policies: this.policies,
      nodes: this.nodes,
      plans: this.plans,
      podsOn: name => this.podIndex.on(name),
      written: this.written,
      rejectedPlans: this.rejectedPlans,
    };
  }

  get synced(): boolean {
    return [this.policies, this.nodes, this.pods, this.plans].every(i => i.hasSynced);
  }

  /** Starts the caches (standby replicas keep them warm too). */
  startInformers(): void {
    for (const informer of [this.policies, this.nodes, this.pods, this.plans]) informer.start();
  }

  /** Begins writing: called when this replica becomes leader (or at once without leader election). */
  startLeading(): void {
    if (this.leading) return;
    this.leading = true;
    this.options.metrics.leader.set(1);
    this.queue = new WorkQueue(key => this.process(key), {
      concurrency: this.options.concurrency,
      debounceMs: this.options.debounceMs,
      maxWaitMs: this.options.maxWaitMs,
      retry: { initialMs: 200, maxMs: 60_000 },
      onDepth: depth => {
        this.options.metrics.queueDepth.set(depth);
      },
      onError: (key, error, retryInMs) => {
        // 409: the plan was written (by an agent's status, another replica, a person) after the version this plan
        // was built on; expected whenever the cache lags, and the retry plans from the newer version.
        if (isConflict(error))
          this.options.logger.info({ key, retryInMs }, 'plan changed since it was read, re-planning');
        else if (error instanceof PodCacheBehindError)
          this.options.logger.info(
            { key, pod: error.pod, retryInMs },
            'pod cache behind the server, waiting',
          );
        else
          this.options.logger.warn(
            { key, error: errorMessage(error), retryInMs },
            'reconcile failed, will retry',
          );
      },
    });
    this.enqueueEverything();
  }

  /** Stops writing at once (lost the lease, or shutting down); in-flight writes finish first. */
  async stopLeading(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.options.metrics.leader.set(0);
    for (const timer of this.replanTimers.values()) clearTimeout(timer);
    this.replanTimers.clear();
    const queue = this.queue;
    this.queue = undefined;
    await queue?.stop();
  }

  async stop(): Promise<void> {
    await this.stopLeading();
    for (const informer of [this.policies, this.nodes, this.pods, this.plans]) informer.stop();
  }

  /** Resolves once the caches are synced and the queue has nothing left (tests, benchmarks, the demo). */
  async idle(): Promise<void> {
    while (!this.synced) await new Promise(resolve => setTimeout(resolve, 20));
    await this.queue?.idle();
  }

  private enqueue(key: string): void {
    if (this.synced) this.queue?.add(key);
  }

  private enqueueEverything(): void {
    if (!this.synced) return;
    const names = new Set([
      ...this.nodes.list().map(n => n.metadata.name),
      ...this.plans.list().map(p => p.metadata.name),
      ...this.rejectedPlans.keys(),
    ]);
    for (const name of names) this.queue?.add(nodeKey(name));
    this.queue?.add(statusKey);
  }

  private onSynced(): void {
    if (this.synced) this.enqueueEverything();
  }

  private async process(key: string): Promise<void> {
    if (key === statusKey) {
      await this.writePolicyStatuses();
      return;
    }
    const name = key.slice(nodeKey('').length);
    const end = this.options.metrics.reconcileDuration.startTimer();
    try {
      const outcome = await reconcileNode(name, this.state, {
        writer: this.writer,
        logger: this.options.logger,
        events: this.options.events,
        topologyGate: this.topologyGate,
        replanAfter: (node, ms) => {
          this.replanAfter(node, ms);
        },
      });
      end({ result: outcome });
      this.options.metrics.planWrites.inc({
        result:
          outcome === 'unchanged' || outcome === 'absent' || outcome === 'unplannable' ? 'skipped' : outcome,
      });
    } catch (error) {
      const result = isConflict(error) || error instanceof PodCacheBehindError ? 'conflict' : 'failed';
      end({ result });
      this.options.metrics.planWrites.inc({ result });
      throw error;
    }
  }

  private replanAfter(node: string, ms: number): void {
    if (this.replanTimers.has(node)) return;
    this.options.metrics.topologyReplansDeferred.inc();
    this.options.logger.info({ node, waitMs: ms }, 'topology report deferred: re-plan interval');
    const timer = setTimeout(() => {
      this.replanTimers.delete(node);
      this.enqueue(nodeKey(node));
    }, ms);
    timer.unref();
    this.replanTimers.set(node, timer);
  }

  private async writePolicyStatuses(): Promise<void> {
    const desired = desiredPolicyStatuses(this.policies.list(), this.nodes.list(), new Date().toISOString());
    for (const [name, status] of desired) {
      const cached = this.policies.get(name);
      if (!cached || canonicalJson(cached.status ?? {}) === canonicalJson(status)) continue;
      await this.writer.patchPolicyStatus(name, status);
      this.options.metrics.statusWrites.inc();
      this.recordTransitions(cached, status.conditions ?? []);
    }
  }

  private recordTransitions(
    policy: CachedPolicy,
    conditions: NonNullable<CachedPolicy['status']>['conditions'] & object,
  ): void {
    for (const c of conditions) {
      const before = policy.status?.conditions?.find(p => p.type === c.type);
      if (before?.status === c.status && before.reason === c.reason) continue;
      const warning = warningStatus[c.type] === c.status;
      this.options.events.record(
        { kind: 'NodeQoSPolicy', apiVersion, name: policy.name },
        warning ? 'Warning' : 'Normal',
        c.reason,
        c.message,
      );
    }
  }

  private policyHandlers(onRestart: () => void): ConstructorParameters<typeof Informer<CachedPolicy>>[1] {
    const touched = (...policies: (CachedPolicy | undefined)[]): void => {
      const selectors = policies.flatMap(p => (p?.policy ? [p.policy.spec.nodeSelector] : []));
      this.enqueueMatching(selectors);
      this.enqueue(statusKey);
    };
    return {
      onAdd: p => {
        touched(p);
      },
      onUpdate: (before, after) => {
        if (before.generation !== after.generation || before.resourceVersion === '') touched(before, after);
        else if (canonicalJson(before.status) !== canonicalJson(after.status)) this.enqueue(statusKey);
      },
      onDelete: p => {
        touched(p);
      },
      onSynced: () => {
        this.onSynced();
      },
      onRestart,
    };
  }

  private enqueueMatching(selectors: (LabelSelector | undefined)[]): void {
    for (const node of this.nodes.list()) {
      const labels = node.metadata.labels ?? {};
      if (selectors.some(selector => selectorMatches(selector, labels)))
        this.enqueue(nodeKey(node.metadata.name));
    }
    // Plans of nodes that vanished are reconciled (deleted) too.
    for (const plan of this.plans.list())
      if (!this.nodes.get(plan.metadata.name)) this.enqueue(nodeKey(plan.metadata.name));
  }

  private nodeHandlers(onRestart: () => void): ConstructorParameters<typeof Informer<CachedNode>>[1] {
    const changed = (node: CachedNode): void => {
      this.enqueue(nodeKey(node.metadata.name));
      this.enqueue(statusKey);
    };
    return {
      onAdd: changed,
      onUpdate: (before, after) => {
        if (withoutVersion(before) !== withoutVersion(after)) changed(after);
      },
      onDelete: changed,
      onSynced: () => {
        this.onSynced();
      },
      onRestart,
    };
  }

  private podHandlers(onRestart: () => void): ConstructorParameters<typeof Informer<CachedPod>>[1] {
    return {
      onAdd: pod => {
        this.podIndex.upsert(pod);
        this.enqueue(nodeKey(pod.spec.nodeName ?? ''));
      },
      onUpdate: (before, after) => {
        this.podIndex.remove(before);
        this.podIndex.upsert(after);
        if (withoutVersion(before) === withoutVersion(after)) return;
        this.enqueue(nodeKey(before.spec.nodeName ?? ''));
        this.enqueue(nodeKey(after.spec.nodeName ?? ''));
      },
      onDelete: pod => {
        this.podIndex.remove(pod);
        this.enqueue(nodeKey(pod.spec.nodeName ?? ''));
      },
      onSynced: () => {
        this.onSynced();
      },
      onRestart,
    };
  }

  private planHandlers(onRestart: () => void): ConstructorParameters<typeof Informer<CachedPlan>>[1] {
    return {
      onAdd: plan => {
        const name = plan.metadata.name;
        this.rejectedPlans.delete(name);
        // Not the spec we last wrote (another writer created it, or it replaced a rejected version): plan again.
        if (canonicalJson(plan.spec) !== canonicalJson(this.written.get(name)?.spec))
          this.enqueue(nodeKey(name));
      },
      onUpdate: (before, after) => {
        const name = after.metadata.name;
        this.rejectedPlans.delete(name);
        const ours = canonicalJson(after.spec) === canonicalJson(this.written.get(name)?.spec);
        // A spec we did not write (someone edited the plan) is no longer what we last wrote: re-plan from the cache.
        if (!ours) this.written.delete(name);
        const topologyChanged =
          canonicalJson(before.status?.topology) !== canonicalJson(after.status?.topology);
        if (topologyChanged || (!ours && canonicalJson(before.spec) !== canonicalJson(after.spec)))
          this.enqueue(nodeKey(name));
      },
      onDelete: plan => {
        this.written.delete(plan.metadata.name);
        this.rejectedPlans.delete(plan.metadata.name);
        this.enqueue(nodeKey(plan.metadata.name));
      },
      onRejected: (name, resourceVersion, evicted) => {
        const before = this.rejectedPlans.get(name);
        this.rejectedPlans.set(name, {
          resourceVersion,
          previous: before?.previous ?? this.written.get(name)?.spec ?? evicted?.spec,
          topology: before?.topology ?? evicted?.status?.topology,
          // Our own rewrite came back rejected: remember it, so the reconcile fails instead of writing again.
          rewrittenAs: before?.rewrittenAs === resourceVersion ? resourceVersion : undefined,
        });
        this.written.delete(name);
        this.enqueue(nodeKey(name));
      },
      onSynced: () => {
        this.onSynced();
      },
      onRestart,
    };
  }
}
