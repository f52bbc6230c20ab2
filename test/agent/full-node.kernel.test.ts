// issue 18 item 3 on a real cgroup v1 kernel (docs/decisions/0119): a previous plan whose exclusive pins held
// every CPU of this 2-CPU machine, and a BE pod arriving. The planner gives up the youngest kept pin instead of
// putting BE on an exclusive CPU, and the agent applies that: the BE pod's cpuset is the one CPU no exclusive pod
// owns, the older exclusive pod keeps its own. Private hierarchy nodeqos-test-<random>, removed even on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { removeDir } from '../support/kubepods.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCpuList } from '../../src/api/cpulist.ts';
import type { NodeIsolationPlan, PlanPod } from '../../src/api/plan.ts';
import { flatTopology } from '../../src/api/topology.ts';
import { NodeAgent, type PlanApplied } from '../../src/agent/apply-plan.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { guaranteed, node, pod, policy } from '../plan/fixtures.ts';

const cgroupRoot = '/sys/fs/cgroup';
const controllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;
const testRoot = `nodeqos-test-${randomBytes(4).toString('hex')}`;
const uids = {
  older: 'aaaaaaaa-0000-4000-8000-000000000001',
  younger: 'aaaaaaaa-0000-4000-8000-000000000002',
  be: 'aaaaaaaa-0000-4000-8000-000000000003',
};
const pods = [
  { uid: uids.older, dir: [`pod${uids.older}`] },
  { uid: uids.younger, dir: [`pod${uids.younger}`] },
  { uid: uids.be, dir: ['besteffort', `pod${uids.be}`] },
];

let writable = false;
let stateDir = '';
let plan: NodeIsolationPlan;
const sleepers: ChildProcess[] = [];

const dirOf = (controller: string, ...parts: string[]): string =>
  join(cgroupRoot, controller, testRoot, ...parts);
const read = async (path: string): Promise<string> => (await readFile(path, 'utf8')).trim();

/** The plan for a full 2-CPU node: both CPUs were exclusive in the previous plan, now a BE pod is there. */
function fullNodePlan(): NodeIsolationPlan {
  const older = guaranteed('LSE', '1', '256Mi', {
    name: 'older',
    uid: uids.older,
    created: '2026-01-01T00:00:00Z',
  });
  const younger = guaranteed('LSE', '1', '256Mi', {
    name: 'younger',
    uid: uids.younger,
    created: '2026-01-02T00:00:00Z',
  });
  const input = { policy: policy(), node: node('2'), topology: flatTopology(2) };
  const first = planNode({ ...input, pods: [older] });
  const kept = first.spec.pods[0]!;
  const previous = {
    ...first.spec,
    pods: [kept, { ...kept, uid: uids.younger, name: 'younger', cpu: { ...kept.cpu, cpuset: '1' } }],
  };
  return planNode({
    ...input,
    pods: [older, younger, pod({ name: 'be', qos: 'BE', uid: uids.be })],
    previous,
  });
}

describe('a full node on a real cgroup v1 kernel: BE never on an exclusive CPU', () => {
  beforeAll(async () => {
    try {
      for (const controller of controllers) await access(join(cgroupRoot, controller), constants.W_OK);
      writable = true;
    } catch {
      console.warn('skipping kernel test: /sys/fs/cgroup/{cpu,cpuset,memory,blkio} is not writable');
      return;
    }
    stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-full-node-'));
    for (const controller of controllers) {
      const dirs = [dirOf(controller), dirOf(controller, 'burstable'), dirOf(controller, 'besteffort')];
      for (const p of pods) dirs.push(dirOf(controller, ...p.dir), dirOf(controller, ...p.dir, 'c-main'));
      for (const dir of dirs) {
        await mkdir(dir);
        if (controller === 'cpuset') {
          await writeFile(join(dir, 'cpuset.cpus'), '0-1');
          await writeFile(join(dir, 'cpuset.mems'), '0');
        }
      }
    }
    for (const p of pods) {
      const child = spawn('sleep', ['600'], { stdio: 'ignore' });
      sleepers.push(child);
      for (const controller of controllers)
        await writeFile(join(dirOf(controller, ...p.dir, 'c-main'), 'cgroup.procs'), String(child.pid));
    }
    plan = fullNodePlan();
  });

  afterAll(async () => {
    try {
      await Promise.all(
        sleepers.map(
          child =>
            new Promise<void>(resolve => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
    } finally {
      for (const controller of controllers) await removeDir(dirOf(controller));
      if (stateDir !== '') await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('plans BE on the CPU the youngest kept pin gave up', ({ skip }) => {
    if (!writable) skip();
    const byName = (name: string): PlanPod | undefined => plan.spec.pods.find(p => p.name === name);
    expect(byName('older')?.cpu).toMatchObject({ cpuset: '0', pinned: 'exclusive' });
    expect(byName('younger')?.cpu.pinned).toBe('shared');
    expect(plan.spec.pools.be).toBe('1');
    const exclusive = plan.spec.pods
      .filter(p => p.cpu.pinned === 'exclusive')
      .flatMap(p => parseCpuList(p.cpu.cpuset));
    expect(parseCpuList(byName('be')?.cpu.cpuset ?? '').some(cpu => exclusive.includes(cpu))).toBe(false);
  });

  it('the agent applies it: the kernel runs BE only on the non-exclusive CPU', async ({ skip }) => {
    if (!writable) skip();
    const agent = await NodeAgent.create({
      nodeName: 'n1',
      stateDir,
      kubepodsDir: testRoot,
      driver: 'cgroupfs',
      registry: new Registry(),
    });
    const report = await agent.applyPlan(plan);
    expect(report.status).not.toBe('refused');
    const applied = report as PlanApplied;
    // oom_score_adj -900 needs CAP_SYS_RESOURCE, which this machine lacks: only that knob may fail.
    for (const p of applied.pods) expect(p.failed.filter(f => f.knob !== 'oom_score_adj')).toEqual([]);
    expect(await read(join(dirOf('cpuset', `pod${uids.older}`), 'cpuset.cpus'))).toBe('0');
    expect(await read(join(dirOf('cpuset', `pod${uids.older}`, 'c-main'), 'cpuset.cpus'))).toBe('0');
    expect(await read(join(dirOf('cpuset', 'besteffort', `pod${uids.be}`), 'cpuset.cpus'))).toBe('1');
    expect(await read(join(dirOf('cpuset', 'besteffort', `pod${uids.be}`, 'c-main'), 'cpuset.cpus'))).toBe(
      '1',
    );
    await agent.deletePlan();
  });
});
