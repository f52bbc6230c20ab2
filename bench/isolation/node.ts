// One scenario run's "node": a private nodeqos-test-* kubepods tree pinned to the benchmark CPU, an LS pod and a BE
// pod laid out as kubelet's cgroupfs driver lays them out, and one of the settings under test:
//   alone    kubelet's values, only the LS pod runs (the floor)
//   none     every process in one cgroup (the LS container), kernel defaults, oom_score_adj 0
//   kubelet  the cpu.shares, quotas, memory limits and oom_score_adj kubelet itself sets for these pods
//   nodeqos  kubelet's values, then the planner's plan applied by the agent (NodeAgent.applyPlan, the real
//            executor) and the BE suppress loop running with the agent's tier sink
// The tree's top directory stands for kubepods. It gets cpu.shares 262144 in every setting, so the scenario on its
// CPU is not starved by other work on this shared machine (a real node's kubepods holds most of its machine).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { NodeAgent, type PlanApplied } from '../../src/agent/apply-plan.ts';
import { createUtilizationSampler } from '../../src/agent/suppress/samplers/utilization.ts';
import { SuppressLoop } from '../../src/agent/suppress/loop.ts';
import type { KubeQoS } from '../../src/api/group.ts';
import type { Pod } from '../../src/api/inputs.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { policySchema } from '../../src/api/policy.ts';
import { cpuToMilli, memoryToBytes } from '../../src/api/quantity.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { CgroupSandbox, type SandboxController, type SandboxPod } from '../lib/cgroup-sandbox.ts';
import { scratchDirs } from './processes.ts';

export const settings = ['alone', 'none', 'kubelet', 'nodeqos'] as const;
export type Setting = (typeof settings)[number];

export const nodeName = 'isolation-bench-node';
const lsUid = '13131313-0000-4000-8000-00000000001a';
const beUid = '13131313-0000-4000-8000-00000000002b';

export interface NodeShape {
  /** The CPU the whole tree is pinned to. */
  readonly cpu: number;
  /** Node memory capacity = kubepods memory.limit_in_bytes (kubelet's allocatable), e.g. "768Mi". */
  readonly memory: string;
  /** The LS pod's requests (Burstable: no limits). */
  readonly lsRequests: { readonly cpu: string; readonly memory: string };
}

export interface NodeOptions {
  readonly shape: NodeShape;
  readonly setting: Setting;
  /** The policy's spec.cpuSuppress.beIdle for the nodeqos setting (undefined: the policy default). */
  readonly beIdle?: boolean | undefined;
  /** What-if outside the agent: cpu.idle=1 written on the besteffort tier by the benchmark itself. */
  readonly tierIdle?: boolean | undefined;
  /**
   * What-if outside the agent: the BE pod's blkio throttle rules (as the agent wrote them on the pod directory)
   * copied onto its container directory. cgroup v1 blk-throttle does not apply a parent's rule to a child's I/O.
   */
  readonly containerThrottle?: boolean | undefined;
}

function containerDir(uid: string): string {
  return createHash('sha256').update(uid).digest('hex');
}

function pod(uid: string, name: string, kubeQoS: KubeQoS, requests?: NodeShape['lsRequests']): Pod {
  return {
    metadata: { name, namespace: 'bench', uid, labels: {} },
    spec: {
      nodeName,
      containers: [{ name: 'main', resources: requests === undefined ? {} : { requests: { ...requests } } }],
    },
    status: { phase: 'Running', qosClass: kubeQoS },
  };
}

export function planFor(shape: NodeShape, beIdle: boolean | undefined): NodeIsolationPlan {
  const policy = policySchema.parse({
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeQoSPolicy',
    metadata: { name: 'isolation-bench' },
    spec: beIdle === undefined ? {} : { cpuSuppress: { beIdle } },
  });
  const capacity = { cpu: '1', memory: shape.memory };
  return planNode({
    policy,
    node: { metadata: { name: nodeName }, status: { capacity, allocatable: capacity } },
    pods: [pod(lsUid, 'ls', 'Burstable', shape.lsRequests), pod(beUid, 'be', 'BestEffort')],
    topology: { cpus: [{ id: shape.cpu, core: shape.cpu, socket: 0, numa: 0 }] },
  });
}

/** kubelet's MilliCPUToShares (pkg/kubelet/cm/helpers_linux.go). */
function milliToShares(milli: number): number {
  return milli === 0 ? 2 : Math.min(262144, Math.max(2, Math.floor((milli * 1024) / 1000)));
}

/** kubelet's Burstable oom_score_adj (pkg/kubelet/qos/policy.go): 1000 - 1000 x request / capacity, in [3, 999]. */
export function kubeletBurstableOom(requestBytes: number, capacityBytes: number): number {
  const adj = 1000 - Math.floor((1000 * requestBytes) / capacityBytes);
  return Math.min(999, Math.max(3, adj));
}

function write(path: string, value: string | number): void {
  writeFileSync(path, String(value));
}

function readNumber(path: string): number {
  return Number(readFileSync(path, 'utf8').trim());
}

export class BenchNode {
  readonly options: NodeOptions;
  readonly sandbox: CgroupSandbox;
  readonly plan: NodeIsolationPlan;
  readonly ls: SandboxPod;
  readonly be: SandboxPod;
  /** The agent's report of the nodeqos plan apply. */
  applied: PlanApplied | undefined;
  #loop: SuppressLoop | undefined;
  #stateDir: string | undefined;

  private constructor(options: NodeOptions, sandbox: CgroupSandbox, plan: NodeIsolationPlan) {
    this.options = options;
    this.sandbox = sandbox;
    this.plan = plan;
    const [ls, be] = sandbox.pods;
    if (!ls || !be) throw new Error('sandbox without its two pods');
    this.ls = ls;
    this.be = be;
  }

  static async create(options: NodeOptions): Promise<BenchNode> {
    const plan = planFor(options.shape, options.beIdle);
    const pods: SandboxPod[] = [
      { uid: lsUid, kubeQoS: 'Burstable', containers: [containerDir(lsUid)] },
      { uid: beUid, kubeQoS: 'BestEffort', containers: [containerDir(beUid)] },
    ];
    const sandbox = await CgroupSandbox.create(pods, String(options.shape.cpu));
    const node = new BenchNode(options, sandbox, plan);
    try {
      write(join(sandbox.dir('cpu'), 'cpu.shares'), 262144);
      write(join(sandbox.dir('memory'), 'memory.limit_in_bytes'), memoryToBytes(options.shape.memory));
    } catch (error) {
      sandbox.removeSync();
      throw error;
    }
    return node;
  }

  /** The cgroup directories (one per controller) a process of this role goes into. */
  dirsOf(role: 'ls' | 'be'): string[] {
    const target = role === 'be' && this.options.setting !== 'none' ? this.be : this.ls;
    const container = target.containers[0] ?? '';
    return (['cpu', 'cpuset', 'memory', 'blkio'] as const satisfies readonly SandboxController[]).map(c =>
      this.sandbox.dir(c, target, container),
    );
  }

  /** Puts the setting in force on the tree and on the processes already placed in it. */
  async enforce(lsPids: readonly number[], bePids: readonly number[]): Promise<void> {
    const { setting } = this.options;
    if (setting === 'none') return;
    this.#kubelet(lsPids, bePids);
    if (this.options.tierIdle === true) write(join(this.sandbox.dir('cpu'), 'besteffort', 'cpu.idle'), 1);
    if (setting !== 'nodeqos') return;
    this.#stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-bench-state-'));
    scratchDirs.add(this.#stateDir);
    const agent = await NodeAgent.create({
      nodeName,
      stateDir: this.#stateDir,
      kubepodsDir: this.sandbox.name,
      driver: 'cgroupfs',
      registry: new Registry(),
    });
    const report = await agent.applyPlan(this.plan);
    if (report.status === 'refused')
      throw new Error(`plan refused: ${report.reason}: ${report.issues.join('; ')}`);
    this.applied = report;
    if (this.options.containerThrottle === true) this.#copyThrottleToContainer();
    const initialQuotaUs = await agent.readBeTierQuota();
    const sampler = createUtilizationSampler({ procRoot: '/proc', fs: cpuStatView(this.options.shape.cpu) });
    this.#loop = new SuppressLoop({
      plan: this.plan.spec.cpuSuppress,
      // One sampler for the loop's life: it keeps the previous /proc/stat read (as createSamplerSelector does).
      samplerFor: () => sampler,
      writeQuota: agent.beTierQuotaSink(),
      resyncMs: 0,
      ...(initialQuotaUs === undefined ? {} : { initialQuotaUs }),
    });
    this.#loop.start();
  }

  #copyThrottleToContainer(): void {
    const podDir = this.sandbox.dir('blkio', this.be);
    const containerDir = this.sandbox.dir('blkio', this.be, this.be.containers[0]);
    for (const file of [
      'blkio.throttle.read_bps_device',
      'blkio.throttle.write_bps_device',
      'blkio.throttle.read_iops_device',
      'blkio.throttle.write_iops_device',
    ])
      for (const rule of readFileSync(join(podDir, file), 'utf8').split('\n').filter(Boolean))
        write(join(containerDir, file), rule);
  }

  /** The suppress loop's state (nodeqos setting): last pressure, target and written quota. */
  suppressState(): ReturnType<SuppressLoop['state']> | undefined {
    return this.#loop?.state();
  }

  /** The BE tier quota the suppress loop holds (-1 unlimited), read from the kernel. */
  beTierQuotaUs(): number {
    return readNumber(join(this.sandbox.dir('cpu'), 'besteffort', 'cpu.cfs_quota_us'));
  }

  /** kubelet's values for a Burstable LS pod with requests and a BestEffort BE pod (no limits anywhere). */
  #kubelet(lsPids: readonly number[], bePids: readonly number[]): void {
    const { shape } = this.options;
    const cpu = this.sandbox.dir('cpu');
    const lsShares = milliToShares(cpuToMilli(shape.lsRequests.cpu));
    write(join(cpu, 'burstable', 'cpu.shares'), lsShares);
    write(join(cpu, 'besteffort', 'cpu.shares'), 2);
    for (const dir of [
      this.sandbox.dir('cpu', this.ls),
      this.sandbox.dir('cpu', this.ls, this.ls.containers[0]),
    ])
      write(join(dir, 'cpu.shares'), lsShares);
    for (const dir of [
      this.sandbox.dir('cpu', this.be),
      this.sandbox.dir('cpu', this.be, this.be.containers[0]),
    ])
      write(join(dir, 'cpu.shares'), 2);
    const lsOom = kubeletBurstableOom(memoryToBytes(shape.lsRequests.memory), memoryToBytes(shape.memory));
    for (const pid of lsPids) write(`/proc/${pid}/oom_score_adj`, lsOom);
    for (const pid of bePids) write(`/proc/${pid}/oom_score_adj`, 1000);
  }

  /** Stops the suppress loop and removes the tree; call after every process in it has exited. */
  async close(): Promise<void> {
    try {
      await this.#loop?.stop();
    } finally {
      this.sandbox.removeSync();
      if (this.#stateDir !== undefined) {
        await rm(this.#stateDir, { recursive: true, force: true });
        scratchDirs.delete(this.#stateDir);
      }
    }
  }
}

/**
 * /proc/stat as the suppress loop's utilization sampler sees it on this one-CPU node: the aggregate "cpu" line is
 * the benchmark CPU's own line, so the loop's pressure is that CPU's (other work on the machine's other CPU is
 * another node's business). Everything else is the real file.
 */
function cpuStatView(cpu: number): { readFile: (path: string) => Promise<string> } {
  return {
    readFile: async path => {
      const text = readFileSync(path, 'utf8');
      const line = text.split('\n').find(l => l.startsWith(`cpu${cpu} `));
      if (line === undefined) throw new Error(`${path} has no cpu${cpu} line`);
      return `cpu ${line.slice(`cpu${cpu}`.length)}\n`;
    },
  };
}
