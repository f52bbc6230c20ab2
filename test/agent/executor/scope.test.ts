// Passes scoped to what changed (issue 11): a plan change that touches one pod reads and writes only that pod's
// files; pods named in `also` (new cgroups, the drift check's share) are re-read and what drifted is rewritten;
// the others keep their last report. On the in-memory v1 node, every file access is recorded.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplied, type PlanApplyReport } from '../../../src/agent/apply-plan.ts';
import type { AgentFs } from '../../../src/agent/fs.ts';
import type { NodeIsolationPlan } from '../../../src/api/plan.ts';
import type { MemoryFs } from '../helpers/memory-fs.ts';
import { plan, planPod, uids } from '../helpers/plans.ts';
import { v1Node, v1PodDir } from '../helpers/trees.ts';
import { memoryNodeAgent } from '../helpers/memory-agent.ts';

const pods = [
  { uid: uids.lse, kubeQoS: 'Guaranteed' as const, containers: ['c1'] },
  { uid: uids.ls, kubeQoS: 'Burstable' as const, containers: ['c1'] },
  { uid: uids.be, kubeQoS: 'BestEffort' as const, containers: ['c1'] },
];

function nodePlan(lsShares = 512): NodeIsolationPlan {
  return plan('n', [
    planPod({ uid: uids.lse, name: 'a', qosClass: 'LSE', kubeQoS: 'Guaranteed', cpu: { shares: 2048 } }),
    planPod({ uid: uids.ls, name: 'b', qosClass: 'LS', kubeQoS: 'Burstable', cpu: { shares: lsShares } }),
    planPod({ uid: uids.be, name: 'c', qosClass: 'BE', kubeQoS: 'BestEffort', cpu: { shares: 2 } }),
  ]);
}

/** The memory node, with every path read or written recorded. */
function recorded(fs: MemoryFs): { fs: AgentFs; touched: string[] } {
  const touched: string[] = [];
  return {
    touched,
    fs: {
      readFile: path => {
        touched.push(path);
        return fs.readFile(path);
      },
      writeFile: (path, data) => {
        touched.push(path);
        return fs.writeFile(path, data);
      },
      listDirs: path => fs.listDirs(path),
      listNames: path => fs.listNames(path),
      exists: path => fs.exists(path),
    },
  };
}

function applied(report: PlanApplyReport): PlanApplied {
  if (report.status === 'refused') throw new Error(report.reason);
  return report;
}

let stateDir = '';
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-scope-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

async function setup(): Promise<{ memory: MemoryFs; touched: string[]; agent: NodeAgent }> {
  const memory = v1Node(pods);
  const { fs, touched } = recorded(memory);
  const agent = await memoryNodeAgent({ fs, stateDir });
  return { memory, touched, agent };
}

const podDirs = (uid: string): string[] =>
  ['cpu', 'cpuset', 'memory', 'blkio'].map(c => {
    const pod = pods.find(p => p.uid === uid);
    if (!pod) throw new Error(uid);
    return `${v1PodDir(c, pod)}/`;
  });

describe('a pass scoped to what changed', () => {
  it("a plan change to one pod reads and writes only that pod's cgroup files; the others keep their report", async () => {
    const { memory, touched, agent } = await setup();
    applied(await agent.applyPlan(nodePlan()));
    touched.length = 0;
    memory.writes.length = 0;
    const report = applied(await agent.applyPlan(nodePlan(768), { kind: 'changed' }));
    const cgroupFiles = touched.filter(path => path.startsWith('/cg/'));
    expect(cgroupFiles.length).toBeGreaterThan(0);
    const own = podDirs(uids.ls);
    expect(cgroupFiles.filter(path => !own.some(dir => path.startsWith(dir)))).toEqual([]);
    expect(memory.writes.map(w => [w.path, w.data])).toEqual([
      [`${v1PodDir('cpu', pods[1] ?? pods[0]!)}/cpu.shares`, '768'],
    ]);
    expect(report.pods.map(p => [p.name, p.outcome])).toEqual([
      ['a', 'applied'],
      ['b', 'applied'],
      ['c', 'applied'],
    ]);
    expect(report.counts.applied).toBe(3);
  });

  it('the same plan again with scope changed touches no pod file at all', async () => {
    const { touched, agent } = await setup();
    applied(await agent.applyPlan(nodePlan()));
    touched.length = 0;
    applied(await agent.applyPlan(nodePlan(), { kind: 'changed' }));
    expect(touched.filter(path => pods.some(p => podDirs(p.uid).some(dir => path.startsWith(dir))))).toEqual(
      [],
    );
  });

  it("a pod in `also` (the drift check's share) is re-read, and only what drifted is rewritten", async () => {
    const { memory, agent } = await setup();
    applied(await agent.applyPlan(nodePlan()));
    const shares = `${v1PodDir('cpu', pods[0]!)}/cpu.shares`;
    const otherShares = `${v1PodDir('cpu', pods[1]!)}/cpu.shares`;
    memory.files.set(shares, '1024');
    memory.files.set(otherShares, '1024');
    memory.writes.length = 0;
    applied(await agent.applyPlan(nodePlan(), { kind: 'changed', also: new Set([uids.lse]) }));
    expect(memory.writes.map(w => [w.path, w.data])).toEqual([[shares, '2048']]);
    // The other pod's drift waits for its own share of the drift check.
    expect(memory.get(otherShares)).toBe('1024');
    applied(await agent.applyPlan(nodePlan(), { kind: 'changed', also: new Set([uids.ls]) }));
    expect(memory.get(otherShares)).toBe('512');
  });

  it('a pod that failed is not carried: the next changed pass tries it again', async () => {
    const { memory, agent } = await setup();
    const shares = `${v1PodDir('cpu', pods[1]!)}/cpu.shares`;
    memory.injections.push(path => (path === shares ? 'EBUSY' : undefined));
    const first = applied(await agent.applyPlan(nodePlan()));
    expect(first.pods.find(p => p.name === 'b')?.outcome).toBe('failed');
    memory.injections.length = 0;
    // A changed spec retries at once (backoff only holds the same spec back).
    const second = applied(await agent.applyPlan(nodePlan(640), { kind: 'changed' }));
    expect(second.pods.find(p => p.name === 'b')?.outcome).toBe('applied');
    expect(memory.get(shares)).toBe('640');
  });
});
