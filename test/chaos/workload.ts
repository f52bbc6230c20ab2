// What users and kubelet do while the faults fly: pods of every class come and go (their cgroups appear and vanish
// on the simulated node, as kubelet would make them), policies are edited (also by two editors at once, one with a
// stale resourceVersion), nodes change labels (and policy), node pressure moves, and someone edits a plan by hand
// from a stale copy. Every choice comes from the seeded PRNG.
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeQoS, QoSClass } from '../../src/api/group.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import type { PolicySpec } from '../../src/api/policy.ts';
import { isConflict } from '../../src/kube/errors.ts';
import { plansPath, policiesPath } from '../../src/kube/sources.ts';
import { transformPod } from '../../src/kube/transforms.ts';
import { kubeQoSOf } from '../../src/plan/qos.ts';
import { podCgroupDir } from './node-state.ts';
import { plansResource, policiesResource, type ChaosResource } from './api-server.ts';
import type { Random } from './prng.ts';
import type { ChaosWorld, NodeSlot } from './world.ts';

export { policiesResource } from './api-server.ts';
export const policyNames = ['chaos-base', 'chaos-gold'] as const;

export interface LivePod {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly node: NodeSlot;
  readonly qosClass: QoSClass;
  readonly kubeQoS: KubeQoS;
  /** CPUs it owns when pinned (LSE, LSR), else 0. */
  readonly pinnedCpus: number;
}

const maxPodsPerNode = 10;
/**
 * Pinned CPUs stay below capacity - 3, so the pools never run dry: the planner's documented fallback for a node
 * whose kept pins hold every CPU (BE pods then share them, with a warning) is not what this suite checks.
 */
const poolReserve = 3;

const curves = [
  [
    { pressure: 40, ratio: 1 },
    { pressure: 80, ratio: 0.3 },
    { pressure: 95, ratio: 0.1 },
  ],
  [
    { pressure: 20, ratio: 1 },
    { pressure: 60, ratio: 0.5 },
  ],
];

/** Valid edits only (the API server's CEL rules hold: minRatio <= lowRatio; cpuset policies never change). */
const policyEdits: readonly ((rng: Random) => PolicySpec)[] = [
  rng => ({ classes: { LS: { oomScoreAdj: rng.pick([-500, -300, -100]) } } }),
  rng => ({ classes: { LS: { cpu: { sharesPerCPU: rng.pick([512, 1024, 2048]) } } } }),
  rng => ({
    classes: {
      LSR: {
        memory: rng.pick([
          { minRatio: 0.4, lowRatio: 0.8 },
          { minRatio: 0.6, lowRatio: 1 },
        ]),
      },
    },
  }),
  rng => ({ classes: { BE: { memory: { highRatio: rng.pick([0.5, 0.7, 0.9]) } } } }),
  rng => ({ cpuBurst: { enabled: rng.chance(0.5), burstPercent: rng.pick([20, 50, 100]) } }),
  rng => ({ cpuSuppress: { floorMilliCPU: rng.pick([100, 300, 500]) } }),
  rng => ({ cpuSuppress: { curve: rng.pick(curves) } }),
  rng => ({ classes: { LSE: { oomScoreAdj: rng.pick([-950, -900]) } } }),
];

export function initialPolicies(): { name: string; spec: PolicySpec }[] {
  const suppress = { pressureSource: 'psi' as const, intervalMs: 200 };
  return [
    { name: 'chaos-base', spec: { priority: 0, nodeSelector: {}, cpuSuppress: suppress } },
    {
      name: 'chaos-gold',
      spec: {
        priority: 10,
        nodeSelector: { matchLabels: { tier: 'gold' } },
        cpuSuppress: { ...suppress, curve: curves[1] },
        classes: { LS: { oomScoreAdj: -500 }, BE: { memory: { highRatio: 0.5 } } },
        cpuBurst: { enabled: true, burstPercent: 50 },
      },
    },
  ];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON merge patch semantics without nulls: what the API server would store after the patch. */
function merged(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch) || !isPlainObject(target)) return patch;
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) out[key] = merged(target[key], value);
  return out;
}

type Resources = Record<string, Record<string, string>>;

function podShape(qosClass: QoSClass, rng: Random, cpu?: string): { resources: Resources[]; label: boolean } {
  switch (qosClass) {
    case 'LSE':
      return { resources: [guaranteed(cpu ?? '1', '1Gi')], label: true };
    case 'LSR':
      return { resources: [guaranteed('1', '512Mi')], label: true };
    case 'LS':
      return rng.chance(0.5)
        ? { resources: [guaranteed(rng.pick(['250m', '500m']), '512Mi')], label: false }
        : {
            resources: [
              {
                requests: { cpu: rng.pick(['200m', '400m']), memory: '256Mi' },
                limits: { cpu: '1', memory: '1Gi' },
              },
              ...(rng.chance(0.5) ? [{}] : []),
            ],
            label: false,
          };
    case 'BE':
      return rng.chance(0.5)
        ? { resources: rng.chance(0.5) ? [{}, {}] : [{}], label: true }
        : {
            resources: [{ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } }],
            label: true,
          };
  }
}

function guaranteed(cpu: string, memory: string): Resources {
  return { requests: { cpu, memory }, limits: { cpu, memory } };
}

export class Workload {
  readonly pods: LivePod[] = [];
  readonly counts = new Map<string, number>();
  /** Pods created and deleted: each one event on every pod watch. */
  podEvents = 0;
  private readonly world: ChaosWorld;
  private readonly rng: Random;
  private serial = 0;

  constructor(world: ChaosWorld, rng: Random) {
    this.world = world;
    this.rng = rng;
  }

  private count(what: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  async seed(): Promise<void> {
    for (const policy of initialPolicies())
      await this.world.harness.request('POST', policiesPath, {
        body: {
          apiVersion: 'nodeqos.io/v1alpha1',
          kind: 'NodeQoSPolicy',
          metadata: { name: policy.name },
          spec: policy.spec,
        },
      });
    for (const node of this.world.nodes) {
      const quantity = { cpu: String(node.cpus), memory: '32Gi' };
      await this.world.harness.request('POST', '/api/v1/nodes', {
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: node.name, labels: {} },
          status: { capacity: quantity, allocatable: quantity },
        },
      });
      for (const qosClass of ['LSR', 'LS', 'LS', 'BE', 'BE'] as const) await this.createPod(node, qosClass);
    }
  }

  /** A pod through the API, then its cgroup on the node, as kubelet creates it after the binding. */
  async createPod(node: NodeSlot, qosClass: QoSClass, cpu?: string): Promise<LivePod> {
    const name = `${qosClass.toLowerCase()}-${++this.serial}`;
    const namespace = this.rng.pick(['default', 'batch']);
    const shape = podShape(qosClass, this.rng, cpu);
    const pinnedCpus =
      qosClass === 'LSE' || qosClass === 'LSR' ? Number(shape.resources[0]?.requests?.cpu ?? 0) : 0;
    const created = await this.world.harness.request<unknown>(
      'POST',
      `/api/v1/namespaces/${namespace}/pods`,
      {
        body: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace, labels: shape.label ? { 'nodeqos.io/qos-class': qosClass } : {} },
          spec: {
            nodeName: node.name,
            containers: shape.resources.map((resources, i) => ({ name: `c${i}`, image: 'x', resources })),
          },
          status: { phase: 'Running' },
        },
      },
    );
    const pod = transformPod(created);
    if (!pod) throw new Error(`pod ${namespace}/${name} did not parse back`);
    const live: LivePod = {
      name,
      namespace,
      uid: pod.metadata.uid,
      node,
      qosClass,
      kubeQoS: kubeQoSOf(pod),
      pinnedCpus,
    };
    await node.sim.addPod({
      uid: live.uid,
      kubeQoS: live.kubeQoS,
      containers: pod.spec.containers.map(c => c.name),
    });
    this.pods.push(live);
    this.podEvents++;
    this.count(`pod created (${qosClass})`);
    return live;
  }

  /** Deleted through the API; kubelet then removes the cgroup (renamed away first, so it vanishes at once). */
  async deletePod(pod: LivePod): Promise<void> {
    await this.world.harness.request('DELETE', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`, {
      query: { gracePeriodSeconds: 0 },
    });
    this.pods.splice(this.pods.indexOf(pod), 1);
    const trash = join(pod.node.sim.dir, 'removed');
    await mkdir(trash, { recursive: true });
    const gone = join(trash, pod.uid);
    await rename(podCgroupDir(pod.node.sim, pod.uid, pod.kubeQoS), gone);
    await rm(gone, { recursive: true, force: true });
    this.podEvents++;
    this.count('pod deleted');
  }

  async churnPod(): Promise<void> {
    const node = this.rng.pick(this.world.nodes);
    const onNode = this.pods.filter(p => p.node === node);
    if (onNode.length >= maxPodsPerNode || (onNode.length > 3 && this.rng.chance(0.45))) {
      await this.deletePod(this.rng.pick(onNode));
      return;
    }
    const room = node.cpus - poolReserve - onNode.reduce((sum, p) => sum + p.pinnedCpus, 0);
    const qosClass = this.rng.pick<QoSClass>(
      room >= 2 ? ['LSE', 'LSR', 'LS', 'BE'] : room === 1 ? ['LSR', 'LS', 'BE'] : ['LS', 'BE'],
    );
    await this.createPod(
      node,
      qosClass,
      qosClass === 'LSE' ? String(this.rng.int(1, Math.min(2, room))) : undefined,
    );
  }

  async editPolicy(): Promise<void> {
    const name = this.rng.pick(policyNames);
    await this.world.harness.request('PATCH', `${policiesPath}/${name}`, {
      body: { spec: this.rng.pick(policyEdits)(this.rng) },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'chaos-editor' },
    });
    this.count('policy edit');
  }

  /** Two editors read the same policy; one writes first, the other's PUT is stale: 409, re-read, retry. */
  async concurrentPolicyEdits(): Promise<void> {
    const name = this.rng.pick(policyNames);
    const stale = await this.world.api.get(policiesResource, name);
    if (!stale) return;
    await this.editPolicy();
    const edit = this.rng.pick(policyEdits)(this.rng);
    await this.putWithRetry(`${policiesPath}/${name}`, stale, object => ({
      ...object,
      spec: merged(object.spec, edit),
    }));
  }

  /** Someone edits a node's plan by hand from a stale copy (409), then from a fresh one: the controller must undo it. */
  async tamperPlan(): Promise<void> {
    const node = this.rng.pick(this.world.nodes);
    const stale = await this.world.api.get(plansResource, node.name);
    if (!stale) return;
    await this.world.harness.request('PATCH', `${plansPath}/${node.name}`, {
      body: { metadata: { labels: { 'chaos/touched': String(++this.serial) } } },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'chaos-labeler' },
    });
    const landed = await this.putWithRetry(`${plansPath}/${node.name}`, stale, object => {
      const spec = (object as unknown as NodeIsolationPlan).spec;
      const pods = spec.pods.map((pod, i) =>
        i === 0
          ? { ...pod, oomScoreAdj: pod.oomScoreAdj >= 990 ? pod.oomScoreAdj - 7 : pod.oomScoreAdj + 7 }
          : pod,
      );
      return { ...object, spec: { ...spec, pods } };
    });
    if (landed) this.count('plan tampered');
  }

  /** PUT `first` changed by `change`; on 409 re-read and try again (3 times). True when a write landed. */
  private async putWithRetry(
    path: string,
    first: Record<string, unknown>,
    change: (object: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<boolean> {
    let current: Record<string, unknown> | undefined = first;
    const [resource, name]: [ChaosResource, string] = path.startsWith(plansPath)
      ? [plansResource, path.slice(plansPath.length + 1)]
      : [policiesResource, path.slice(policiesPath.length + 1)];
    for (let attempt = 0; attempt < 3 && current; attempt++) {
      try {
        await this.world.harness.request('PUT', path, {
          body: change(current),
          query: { fieldManager: 'chaos-stale-writer' },
        });
        return true;
      } catch (error) {
        if (!isConflict(error)) throw error;
        this.count('409 conflict (stale write)');
        current = await this.world.api.get(resource, name);
      }
    }
    return false;
  }

  async toggleNodeLabel(): Promise<void> {
    const node = this.rng.pick(this.world.nodes);
    const labels = (await this.world.api.get('nodes', node.name))?.metadata as
      { labels?: Record<string, string> } | undefined;
    const gold = labels?.labels?.tier === 'gold';
    await this.world.harness.request('PATCH', `/api/v1/nodes/${node.name}`, {
      body: { metadata: { labels: { tier: gold ? null : 'gold' } } },
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'chaos-labeler' },
    });
    this.count('node label toggled');
  }

  async movePressure(): Promise<void> {
    await this.rng.pick(this.world.nodes).sim.setPressure(this.rng.int(0, 100));
    this.count('pressure changed');
  }
}
