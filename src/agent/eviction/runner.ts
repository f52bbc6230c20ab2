// BE eviction on the node: samples node memory and the BE tier's CPU, and when the plan's thresholds are passed,
// evicts BE pods through the Eviction API in kubelet's order (decision 0140). The decisions are the pure modules of
// this folder; this class holds the clock, the samples, the cool-downs and the calls.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Pod } from '../../api/inputs.ts';
import type { EvictionRound, PlanEviction, PlanSpec } from '../../api/plan.ts';
import { parseCpuList } from '../../api/cpulist.ts';
import { podFacts, type PodFacts } from '../../plan/pod-facts.ts';
import { errorMessage } from '../../kube/errors.ts';
import type { CgroupLayout } from '../cgroup/layout.ts';
import type { AgentFs } from '../fs.ts';
import { EvictionCoolDown } from './cool-down.ts';
import { BeCpuWindow, beRealLimitMilli, type CpuStarvation } from './cpu-starvation.ts';
import { beTierUsageUs } from './cpu-reader.ts';
import { evictPod, type KubeRequester } from './kube-calls.ts';
import { recordRoundEvents } from './round-events.ts';
import { cgroupWorkingSet, memTotalBytes } from './memory-reader.ts';
import { memoryVerdict, type MemoryVerdict } from './memory-threshold.ts';
import { createEvictionMetrics, type EvictionMetrics } from './metrics.ts';
import { rankBEVictims, type EvictionCandidate } from './ranking.ts';
import { evictionRound, type RoundResult } from './round.ts';

export interface NodeMemorySource {
  /** The memory cgroup whose working set is the node's (default: the root memory cgroup). */
  readonly dir: string;
  /** Node memory (default: MemTotal from /proc/meminfo). */
  readonly capacityBytes?: number | undefined;
}

export interface EvictionRunnerOptions {
  readonly nodeName: string;
  readonly client: KubeRequester;
  readonly fs: AgentFs;
  readonly layout: CgroupLayout;
  readonly procRoot: string;
  /** The pods bound to this node (the agent's pod informer). */
  readonly pods: () => readonly Pod[];
  /** The BE tier quota the suppress loop holds now (-1 unlimited; undefined: not known yet). */
  readonly beQuotaUs: () => number | undefined;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly nodeMemory?: NodeMemorySource | undefined;
  readonly now?: (() => number) | undefined;
  /** Called after a round that evicted or was refused (the runtime writes the plan status soon after). */
  readonly onRound?: (() => void) | undefined;
}

/** What the node conditions and the plan status read. */
export interface EvictionState {
  readonly memory: MemoryVerdict | undefined;
  readonly cpu: CpuStarvation | undefined;
  readonly lastRound: EvictionRound | undefined;
}

interface Evicted {
  readonly uid: string;
  readonly credit: number;
}

type Resource = 'memory' | 'cpu';

export class EvictionRunner {
  readonly #options: EvictionRunnerOptions;
  readonly #metrics: EvictionMetrics;
  readonly #now: () => number;
  #settings: PlanEviction | undefined;
  #spec: PlanSpec | undefined;
  #coolDowns: Partial<Record<Resource, EvictionCoolDown>> = {};
  /** Pods let go and not yet gone from the informer, with what they will release (memory only). */
  readonly #evicted = new Map<string, Evicted>();
  readonly #cpuWindow = new BeCpuWindow();
  #lastCpuUsage: { at: number; usageUs: number } | undefined;
  #memory: MemoryVerdict | undefined;
  #cpu: CpuStarvation | undefined;
  #lastRound: EvictionRound | undefined;
  #memoryTimer: NodeJS.Timeout | undefined;
  #cpuTimer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #capacity: number | undefined;

  constructor(options: EvictionRunnerOptions) {
    this.#options = options;
    this.#metrics = createEvictionMetrics(options.registry);
    this.#now = options.now ?? Date.now;
  }

  /** A new plan: its settings apply from the next sample; timers start or stop with the switches. */
  update(spec: PlanSpec): void {
    const settings = spec.eviction;
    const before = this.#settings;
    this.#spec = spec;
    this.#settings = settings;
    const now = this.#now();
    for (const resource of ['memory', 'cpu'] as const) {
      const coolDownSeconds = settings?.[resource].coolDownSeconds;
      if (coolDownSeconds !== before?.[resource].coolDownSeconds)
        this.#coolDowns[resource] =
          coolDownSeconds === undefined
            ? undefined
            : new EvictionCoolDown(coolDownSeconds, resource === 'cpu' ? now : undefined);
    }
    this.#arm();
  }

  /** The plan is gone: no more samples or rounds until a new one arrives. */
  clear(): void {
    this.#settings = undefined;
    this.#spec = undefined;
    this.#coolDowns = {};
    this.#arm();
  }

  state(): EvictionState {
    return { memory: this.#memory, cpu: this.#cpu, lastRound: this.#lastRound };
  }

  #arm(): void {
    const memoryOn = this.#settings?.memory.enabled === true;
    const cpuOn = this.#settings?.cpu.enabled === true;
    clearInterval(this.#memoryTimer);
    clearInterval(this.#cpuTimer);
    this.#memoryTimer = undefined;
    this.#cpuTimer = undefined;
    if (!memoryOn) this.#memory = undefined;
    if (!cpuOn) {
      this.#cpu = undefined;
      this.#cpuWindow.reset();
    }
    if (memoryOn) {
      this.#memoryTimer = setInterval(
        () => {
          this.#enqueue(() => this.memoryTick());
        },
        (this.#settings?.memory.intervalSeconds ?? 1) * 1000,
      );
      this.#memoryTimer.unref();
    }
    if (cpuOn) {
      // Ten samples per window at least, and one per second at most.
      const everyMs = Math.max(1000, ((this.#settings?.cpu.windowSeconds ?? 60) * 1000) / 10);
      this.#cpuTimer = setInterval(() => {
        this.#enqueue(() => this.cpuTick());
      }, everyMs);
      this.#cpuTimer.unref();
    }
  }

  #enqueue(step: () => Promise<unknown>): void {
    this.#chain = this.#chain.then(step).then(
      () => undefined,
      (error: unknown) => {
        this.#options.logger.error({ error: errorMessage(error) }, 'eviction step failed');
      },
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.#memoryTimer);
    clearInterval(this.#cpuTimer);
    this.#memoryTimer = undefined;
    this.#cpuTimer = undefined;
    await this.#chain;
  }

  /** BE and non-BE pods on the node as the ranking sees them, with usage read by `usageOf`. */
  async #candidates(usageOf: (pod: RankFacts) => Promise<number | undefined>): Promise<{
    candidates: EvictionCandidate[];
    present: Set<string>;
  }> {
    const present = new Set<string>();
    const candidates: EvictionCandidate[] = [];
    for (const pod of this.#options.pods()) {
      const f = facts(pod);
      if (f === undefined) continue;
      present.add(f.uid);
      // A pod already let go is terminating: it is pending release, never asked twice.
      if (this.#evicted.has(f.uid)) continue;
      candidates.push({
        uid: f.uid,
        key: f.key,
        namespace: f.namespace,
        name: f.name,
        qosClass: f.qosClass,
        priority: pod.spec.priority,
        usage: f.qosClass === 'BE' ? await usageOf(f) : undefined,
        request: f.request,
      });
    }
    for (const uid of this.#evicted.keys()) if (!present.has(uid)) this.#evicted.delete(uid);
    return { candidates, present };
  }

  async #podWorkingSet(pod: {
    uid: string;
    kubeQoS: 'Guaranteed' | 'Burstable' | 'BestEffort';
  }): Promise<number | undefined> {
    const { layout, fs } = this.#options;
    try {
      return await cgroupWorkingSet(fs, layout.podDir('memory', pod.uid, pod.kubeQoS), layout.version);
    } catch {
      return undefined; // no cgroup yet (or already gone): unmeasured, ranked last
    }
  }

  async #sampleMemory(): Promise<{ workingSetBytes: number; capacityBytes: number }> {
    const { fs, layout, procRoot, nodeMemory } = this.#options;
    const dir = nodeMemory?.dir ?? layout.dir('memory', []);
    this.#capacity ??= nodeMemory?.capacityBytes ?? (await memTotalBytes(fs, procRoot));
    return {
      workingSetBytes: await cgroupWorkingSet(fs, dir, layout.version),
      capacityBytes: this.#capacity,
    };
  }

  /** One memory sample, and a round when the threshold is passed and the cool-down allows. */
  async memoryTick(): Promise<RoundResult | undefined> {
    const settings = this.#settings;
    if (settings?.memory.enabled !== true) return undefined;
    let sample;
    try {
      sample = await this.#sampleMemory();
    } catch (error) {
      this.#metrics.sampleErrors.inc({ signal: 'memory' });
      this.#options.logger.warn({ error: errorMessage(error) }, 'node memory not sampled');
      return undefined;
    }
    const verdict = memoryVerdict(sample, settings.memory);
    this.#memory = verdict;
    this.#metrics.workingSet.set(sample.workingSetBytes);
    this.#metrics.workingSetPercent.set(verdict.percent);
    const now = this.#now();
    const coolDown = this.#coolDowns.memory;
    if (!verdict.over || !coolDown?.roundAllowed(now)) return undefined;
    const { candidates, present } = await this.#candidates(pod => this.#podWorkingSet(pod));
    coolDown.retain(present);
    const pending = [...this.#evicted.values()].reduce((sum, e) => sum + e.credit, 0);
    const reason = `node memory working set ${verdict.percent.toFixed(1)}% (${sample.workingSetBytes} bytes) >= threshold ${settings.memory.thresholdPercent}%; releasing ${verdict.targetBytes} bytes to reach ${settings.memory.lowerPercent}%`;
    return this.#round({
      resource: 'memory',
      candidates,
      target: verdict.targetBytes,
      pending,
      reason,
      observedPercent: verdict.percent,
      thresholdPercent: settings.memory.thresholdPercent,
    });
  }

  /** One BE tier sample into the window; undefined when no usage delta exists yet or the read failed. */
  async #sampleCpu(spec: PlanSpec, now: number): Promise<CpuSampleTaken | undefined> {
    let usageUs: number;
    try {
      usageUs = await beTierUsageUs(this.#options.fs, this.#options.layout);
    } catch (error) {
      this.#metrics.sampleErrors.inc({ signal: 'cpu' });
      this.#options.logger.warn({ error: errorMessage(error) }, 'BE tier CPU not sampled');
      return undefined;
    }
    const previous = this.#lastCpuUsage;
    this.#lastCpuUsage = { at: now, usageUs };
    if (previous === undefined || now <= previous.at) return undefined;
    const realLimitMilli = beRealLimitMilli(
      parseCpuList(spec.pools.be).length,
      this.#options.beQuotaUs() ?? -1,
      spec.cpuSuppress.cfsPeriodUs,
    );
    const requests = new Map<string, number>();
    for (const pod of this.#options.pods()) {
      const f = facts(pod);
      if (f?.qosClass === 'BE' && !this.#evicted.has(f.uid)) requests.set(f.uid, f.cpuRequestMilli);
    }
    const requestMilli = [...requests.values()].reduce((sum, r) => sum + r, 0);
    // microseconds of CPU per millisecond of wall time = millicores.
    const usageMilli = Math.max(0, (usageUs - previous.usageUs) / (now - previous.at));
    return { realLimitMilli, requestMilli, usageMilli, requests };
  }

  /** One BE tier CPU sample, and a round when starvation held over the window and the cool-down allows. */
  async cpuTick(): Promise<RoundResult | undefined> {
    const settings = this.#settings;
    const spec = this.#spec;
    if (settings?.cpu.enabled !== true || spec === undefined) return undefined;
    const now = this.#now();
    const sample = await this.#sampleCpu(spec, now);
    if (sample === undefined) return undefined;
    this.#cpuWindow.add({ at: now, ...sample }, settings.cpu.windowSeconds);
    const verdict = this.#cpuWindow.verdict(settings.cpu);
    this.#cpu = verdict;
    if (verdict.satisfactionPercent !== undefined)
      this.#metrics.cpuSatisfaction.set(verdict.satisfactionPercent);
    const coolDown = this.#coolDowns.cpu;
    if (!verdict.due || !coolDown?.roundAllowed(now)) return undefined;
    const { candidates, present } = await this.#candidates(() => Promise.resolve(0));
    coolDown.retain(present);
    // CPU credit is the pod's CPU request: ranked by priority, then by the larger request.
    const cpuCandidates = candidates.map(c => ({
      ...c,
      usage: c.qosClass === 'BE' ? (sample.requests.get(c.uid) ?? 0) : undefined,
      request: 0,
    }));
    const result = await this.#round({
      resource: 'cpu',
      candidates: cpuCandidates,
      target: verdict.targetMilli,
      pending: 0,
      reason: `BE CPU satisfaction ${(verdict.satisfactionPercent ?? 0).toFixed(0)}% (real limit ${sample.realLimitMilli}m / requests ${sample.requestMilli}m) <= ${settings.cpu.satisfactionLowerPercent}% for ${settings.cpu.windowSeconds}s; releasing ${verdict.targetMilli}m of requests`,
      observedPercent: verdict.satisfactionPercent ?? 0,
      thresholdPercent: settings.cpu.satisfactionLowerPercent,
    });
    if (result.evicted.length > 0) this.#cpuWindow.reset();
    return result;
  }

  async #round(what: RoundRequest): Promise<RoundResult> {
    const { resource, candidates, target, pending } = what;
    const settings = this.#settings;
    const coolDown = this.#coolDowns[resource];
    if (settings === undefined || coolDown === undefined) throw new Error('eviction round without settings');
    const { ranked } = rankBEVictims(candidates, settings.priorityThreshold);
    const now = this.#now();
    const result = await evictionRound({
      ranked,
      target,
      pending,
      coolDown,
      now,
      evict: pod => evictPod(this.#options.client, pod),
    });
    for (const pod of result.evicted)
      this.#evicted.set(pod.uid, { uid: pod.uid, credit: resource === 'memory' ? pod.credit : 0 });
    if (result.evicted.length === 0 && result.refused.length === 0) {
      if (ranked.length === 0 || result.waiting.length > 0)
        this.#options.logger.warn(
          { resource, reason: what.reason, waiting: result.waiting.map(p => p.key) },
          'BE eviction due but no pod could be asked',
        );
      return result;
    }
    this.#lastRound = {
      time: new Date(now).toISOString(),
      resource,
      reason: what.reason.slice(0, 1024),
      observedPercent: Math.min(1000, what.observedPercent),
      thresholdPercent: what.thresholdPercent,
      target: Math.floor(target),
      evicted: result.evicted.slice(0, 64).map(p => p.key),
      refused: result.refused.slice(0, 64).map(r => ({ pod: r.pod.key, reason: r.reason.slice(0, 1024) })),
    };
    this.#metrics.evictions.inc({ reason: resource }, result.evicted.length);
    this.#metrics.refusals.inc({ reason: resource }, result.refused.length);
    this.#options.logger.warn(
      {
        resource,
        reason: what.reason,
        evicted: this.#lastRound.evicted,
        refused: this.#lastRound.refused,
        credited: result.credited,
        target,
      },
      'BE eviction round',
    );
    await recordRoundEvents(
      {
        client: this.#options.client,
        nodeName: this.#options.nodeName,
        logger: this.#options.logger,
        now: new Date(now),
      },
      resource,
      what.reason,
      result,
    );
    this.#options.onRound?.();
    return result;
  }
}

interface CpuSampleTaken {
  readonly realLimitMilli: number;
  readonly requestMilli: number;
  readonly usageMilli: number;
  /** uid -> CPU request of each BE pod not already evicted. */
  readonly requests: ReadonlyMap<string, number>;
}

interface RoundRequest {
  readonly resource: Resource;
  readonly candidates: readonly EvictionCandidate[];
  readonly target: number;
  readonly pending: number;
  readonly reason: string;
  readonly observedPercent: number;
  readonly thresholdPercent: number;
}

type RankFacts = PodFacts & { readonly request: number };

/** The planner's reading of a pod, with its memory request as the ranking's request; undefined: not rankable. */
function facts(pod: Pod): RankFacts | undefined {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined;
  const result = podFacts(pod);
  return result.ok ? { ...result.facts, request: result.facts.memoryRequestBytes } : undefined;
}
