// cgroup v2 under a temp dir, both drivers: every v2 knob, the shares->weight and blkio->io weight conversions,
// io.bfq.weight preference, oom_score_adj, and restore of a pod that leaves the plan.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplied } from '../../../src/agent/apply-plan.ts';
import type { CgroupDriver } from '../../../src/agent/cgroup/layout.ts';
import { plan, planPod, uids } from '../helpers/plans.ts';
import { v2Node, type V2Tree } from '../helpers/trees.ts';

const trees: V2Tree[] = [];

afterEach(async () => {
  for (const tree of trees.splice(0)) await rm(tree.base, { recursive: true, force: true });
});

function containerName(driver: CgroupDriver, id: string): string {
  return driver === 'systemd' ? `cri-containerd-${id}.scope` : id;
}

async function read(dir: string, file: string): Promise<string> {
  return (await readFile(join(dir, file), 'utf8')).trim();
}

const mib = 1024 * 1024;

function v2Plan(withLs = true): ReturnType<typeof plan> {
  return plan('node-a', [
    planPod({
      uid: uids.lse,
      name: 'lse',
      qosClass: 'LSE',
      kubeQoS: 'Guaranteed',
      cpu: { shares: 2048, cfsQuotaUs: 200000, cpuset: '2-3', pinned: 'exclusive' },
      memory: { minBytes: 256 * mib, maxBytes: 256 * mib },
      oomScoreAdj: -997,
      blkio: { weight: 1000, throttle: [] },
    }),
    ...(withLs
      ? [
          planPod({
            uid: uids.ls,
            name: 'ls',
            qosClass: 'LS',
            kubeQoS: 'Burstable',
            cpu: { shares: 1024, cfsQuotaUs: 150000, cfsBurstUs: 50000, cpuset: '0-1' },
            memory: { lowBytes: 64 * mib, highBytes: 460 * mib + 1000, maxBytes: 512 * mib },
            oomScoreAdj: 500,
            blkio: { weight: 500, throttle: [{ device: 'all', readBps: 10 * mib, writeIops: 200 }] },
          }),
        ]
      : []),
    planPod({
      uid: uids.be,
      name: 'be',
      qosClass: 'BE',
      kubeQoS: 'BestEffort',
      cpu: { shares: 2, cpuset: '0-3' },
      oomScoreAdj: 1000,
      blkio: { weight: 10, throttle: [] },
    }),
  ]);
}

describe.each(['cgroupfs', 'systemd'] as const)('cgroup v2 with the %s driver', driver => {
  const pods = [
    {
      uid: uids.lse,
      kubeQoS: 'Guaranteed' as const,
      containers: [containerName(driver, 'aaa')],
      pids: { [containerName(driver, 'aaa')]: 101 },
    },
    {
      uid: uids.ls,
      kubeQoS: 'Burstable' as const,
      containers: [containerName(driver, 'bbb')],
      pids: { [containerName(driver, 'bbb')]: 102 },
    },
    {
      uid: uids.be,
      kubeQoS: 'BestEffort' as const,
      containers: [containerName(driver, 'ccc')],
      pids: { [containerName(driver, 'ccc')]: 103 },
    },
  ];

  async function setup(extraFiles: Record<string, string> = {}): Promise<{ tree: V2Tree; agent: NodeAgent }> {
    const tree = await v2Node(driver, pods, extraFiles);
    trees.push(tree);
    const agent = await NodeAgent.create({
      nodeName: 'node-a',
      stateDir: join(tree.base, 'state'),
      cgroupRoot: tree.cgroupRoot,
      procRoot: tree.procRoot,
      sysRoot: tree.sysRoot,
      registry: new Registry(),
    });
    return { tree, agent };
  }

  it('detects v2, the driver from the kubepods directory, and memory_recursiveprot', async () => {
    const { agent } = await setup();
    expect(agent.mode).toMatchObject({ hierarchy: 'v2', version: 'v2', driver, memoryRecursiveProt: true });
  });

  it('writes every v2 knob on the pod and cpuset on its containers', async () => {
    const { tree, agent } = await setup();
    const report = (await agent.applyPlan(v2Plan())) as PlanApplied;
    expect(report.status).toBe('applied');
    expect(report.pods.map(p => [p.name, p.outcome, p.failed, p.unsupported])).toEqual([
      ['lse', 'applied', [], []],
      ['ls', 'applied', [], []],
      ['be', 'applied', [], []],
    ]);
    const lse = tree.podDir(uids.lse, 'Guaranteed');
    expect(await read(lse, 'cpu.weight')).toBe('79'); // 1 + (2048-2)*9999/262142
    expect(await read(lse, 'cpu.max')).toBe('200000 100000');
    expect(await read(lse, 'cpuset.cpus')).toBe('2-3');
    expect(await read(join(lse, containerName(driver, 'aaa')), 'cpuset.cpus')).toBe('2-3');
    expect(await read(lse, 'memory.min')).toBe(String(256 * mib));
    expect(await read(lse, 'memory.low')).toBe('0');
    expect(await read(lse, 'memory.high')).toBe('max');
    expect(await read(lse, 'memory.max')).toBe(String(256 * mib));
    expect(await read(lse, 'io.weight')).toBe('default 10000'); // 1 + (1000-10)*9999/990
    expect(await read(tree.procRoot, '101/oom_score_adj')).toBe('-997');

    const ls = tree.podDir(uids.ls, 'Burstable');
    expect(await read(ls, 'cpu.weight')).toBe('39');
    expect(await read(ls, 'cpu.max')).toBe('150000 100000');
    expect(await read(ls, 'cpu.max.burst')).toBe('50000');
    expect(await read(ls, 'memory.low')).toBe(String(64 * mib));
    expect(await read(ls, 'memory.high')).toBe(String(460 * mib)); // page-aligned down, as the kernel would
    expect(await read(ls, 'memory.max')).toBe(String(512 * mib));
    expect(await read(ls, 'io.weight')).toBe('default 4950');
    expect(await read(ls, 'io.max')).toBe(`254:0 rbps=${10 * mib} wbps=max riops=max wiops=200`);
    expect(await read(join(ls, containerName(driver, 'bbb')), 'cpu.max')).toBe('max 100000');

    const be = tree.podDir(uids.be, 'BestEffort');
    expect(await read(be, 'cpu.weight')).toBe('1');
    expect(await read(be, 'cpu.max')).toBe('max 100000');
    expect(await read(be, 'io.weight')).toBe('default 1');
    expect(await read(tree.procRoot, '103/oom_score_adj')).toBe('1000');
  });

  it('prefers io.bfq.weight, unconverted, when it exists', async () => {
    const { tree, agent } = await setup({ 'io.bfq.weight': 'default 100' });
    await agent.applyPlan(v2Plan());
    const lse = tree.podDir(uids.lse, 'Guaranteed');
    expect(await read(lse, 'io.bfq.weight')).toBe('1000');
    expect(await read(lse, 'io.weight')).toBe('default 100');
  });

  it('writes the BE tier quota as cpu.max on the besteffort directory', async () => {
    const { tree, agent } = await setup();
    await agent.applyPlan(v2Plan());
    const tier = await agent.writeBeTierQuota(30000);
    expect(tier.tier.failed).toEqual([]);
    const besteffort = join(
      tree.cgroupRoot,
      ...(driver === 'systemd'
        ? ['kubepods.slice', 'kubepods-besteffort.slice']
        : ['kubepods', 'besteffort']),
    );
    expect(await read(besteffort, 'cpu.max')).toBe('30000 100000');
    await agent.writeBeTierQuota(-1);
    expect(await read(besteffort, 'cpu.max')).toBe('max 100000');
  });

  it('writes cpu.idle on the besteffort directory for beIdle, and restores it before the saved cpu.weight', async () => {
    const { tree, agent } = await setup({ 'cpu.idle': '0' });
    const besteffort = join(
      tree.cgroupRoot,
      ...(driver === 'systemd'
        ? ['kubepods.slice', 'kubepods-besteffort.slice']
        : ['kubepods', 'besteffort']),
    );
    await writeFile(join(besteffort, 'cpu.weight'), '1'); // kubelet's weight for shares 2
    const idlePlan = v2Plan();
    idlePlan.spec.cpuSuppress.beIdle = true;
    const on = (await agent.applyPlan(idlePlan)) as PlanApplied;
    expect(on.tierIdle?.written).toEqual([{ knob: 'cpu.idle' }]);
    expect(await read(besteffort, 'cpu.idle')).toBe('1');
    expect(await read(tree.podDir(uids.be, 'BestEffort'), 'cpu.idle')).toBe('0');
    // What the kernel does while idle is set: the weight reads as the minimum; clearing idle resets it to 100.
    await writeFile(join(besteffort, 'cpu.weight'), '100');
    const off = await agent.deletePlan();
    expect(off.tierIdle?.written).toEqual([{ knob: 'cpu.idle' }, { knob: 'cpu.weight' }]);
    expect(await read(besteffort, 'cpu.idle')).toBe('0');
    expect(await read(besteffort, 'cpu.weight')).toBe('1');
  });

  it('with an unusable original-values file, gives an idle tier nobody asks for kubelet values back', async () => {
    const tree = await v2Node(driver, pods, { 'cpu.idle': '0' });
    trees.push(tree);
    const besteffort = join(
      tree.cgroupRoot,
      ...(driver === 'systemd'
        ? ['kubepods.slice', 'kubepods-besteffort.slice']
        : ['kubepods', 'besteffort']),
    );
    // A previous agent's write, whose record was lost with the corrupt file.
    await writeFile(join(besteffort, 'cpu.idle'), '1');
    await mkdir(join(tree.base, 'state'), { recursive: true });
    await writeFile(join(tree.base, 'state', 'original-values.json'), '{not json');
    const agent = await NodeAgent.create({
      nodeName: 'node-a',
      stateDir: join(tree.base, 'state'),
      cgroupRoot: tree.cgroupRoot,
      procRoot: tree.procRoot,
      sysRoot: tree.sysRoot,
      registry: new Registry(),
    });
    const report = (await agent.applyPlan(v2Plan())) as PlanApplied;
    expect(report.stateProblem).toBeDefined();
    expect(report.tierIdle?.written).toEqual([{ knob: 'cpu.idle' }, { knob: 'cpu.weight' }]);
    expect(await read(besteffort, 'cpu.idle')).toBe('0');
    expect(await read(besteffort, 'cpu.weight')).toBe('1');
  });

  it('reports cpu.idle as unsupported where the kernel has none, and changes nothing', async () => {
    const { agent } = await setup();
    const idlePlan = v2Plan();
    idlePlan.spec.cpuSuppress.beIdle = true;
    const report = (await agent.applyPlan(idlePlan)) as PlanApplied;
    expect(report.status).toBe('applied');
    expect(report.tierIdle?.written).toEqual([]);
    expect(report.unsupported.some(u => u.startsWith('cpu.idle: cpu.idle does not exist'))).toBe(true);
  });

  it('restores the original values of a pod that leaves the plan', async () => {
    const { tree, agent } = await setup();
    await agent.applyPlan(v2Plan());
    const report = (await agent.applyPlan(v2Plan(false))) as PlanApplied;
    expect(report.restored.map(p => [p.name, p.outcome, p.failed])).toEqual([['ls', 'restored', []]]);
    const ls = tree.podDir(uids.ls, 'Burstable');
    expect(await read(ls, 'cpu.weight')).toBe('100');
    expect(await read(ls, 'cpu.max')).toBe('max 100000');
    expect(await read(ls, 'cpu.max.burst')).toBe('0');
    expect(await read(ls, 'cpuset.cpus')).toBe('');
    expect(await read(ls, 'memory.low')).toBe('0');
    expect(await read(ls, 'memory.high')).toBe('max');
    expect(await read(ls, 'memory.max')).toBe('max');
    expect(await read(ls, 'io.weight')).toBe('default 100');
    expect(await read(ls, 'io.max')).toBe('254:0 rbps=max wbps=max riops=max wiops=max');
    expect(await read(join(ls, containerName(driver, 'bbb')), 'cpuset.cpus')).toBe('');
    expect(await read(tree.procRoot, '102/oom_score_adj')).toBe('0');
    // The LSE pod stays as planned.
    expect(await read(tree.podDir(uids.lse, 'Guaranteed'), 'cpu.max')).toBe('200000 100000');
  });
});
