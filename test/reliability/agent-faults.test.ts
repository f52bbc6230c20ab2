// The node agent when things go wrong around it: the API server unreachable (at start-up, for a while, across a
// restart), a corrupt local plan copy, cgroup files that fail with EINVAL/EBUSY/ENOENT, and plans it must refuse.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errnoError, nodeFs, type AgentFs } from '../../src/agent/fs.ts';
import { PlanCache } from '../../src/agent/runtime/plan-cache.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { kubeWriter } from '../../src/kube/writers.ts';
import { quotaAt } from '../../src/plan/suppress.ts';
import { podCgroupDir, tierQuota } from '../chaos/node-state.ts';
import { eventually } from '../support/eventually.ts';
import { AgentFixture, nodeName, type AgentUnderTest } from './support/agent-fixture.ts';

let fixture: AgentFixture;

beforeEach(async () => {
  fixture = await AgentFixture.create();
});

afterEach(async () => {
  await fixture.close();
});

function podDir(name: string): string {
  const pod = fixture.pods.get(name);
  if (!pod) throw new Error(`no pod ${name}`);
  return podCgroupDir(fixture.sim, pod.uid, pod.kubeQoS);
}

/** What a node reboot (or someone else) leaves behind: kubelet's values instead of the plan's. */
function driftEveryPod(): void {
  for (const name of fixture.pods.keys()) {
    writeFileSync(join(podDir(name), 'cpu.weight'), '100');
    writeFileSync(join(podDir(name), 'memory.high'), 'max');
  }
}

async function enforced(plan: NodeIsolationPlan): Promise<void> {
  await eventually(async () => expect(await fixture.mismatches(plan)).toEqual([]), 5000);
}

/** The BE tier quota the suppress loop holds (undefined when unlimited). */
async function tierQuotaUs(): Promise<number | undefined> {
  const tier = await tierQuota(fixture.sim);
  if (typeof tier === 'string') throw new Error(tier);
  return tier?.quotaUs;
}

async function suppressFollowsPressure(plan: NodeIsolationPlan): Promise<void> {
  const s = plan.spec.cpuSuppress;
  for (const pressure of [97, 30]) {
    await fixture.sim.setPressure(pressure);
    const target = quotaAt(s, pressure);
    await eventually(
      async () =>
        expect(Math.abs(((await tierQuotaUs()) ?? Infinity) - target)).toBeLessThanOrEqual(s.deadbandQuotaUs),
      5000,
    );
  }
}

async function appliedOnServer(plan: NodeIsolationPlan): Promise<void> {
  await eventually(async () => {
    const stored = await fixture.cluster.plan(nodeName);
    expect(stored?.status?.appliedGeneration).toBe(plan.metadata.generation);
  }, 10_000);
}

/** An agent that enforced `plan` and saved its local copy, then stopped; files drifted afterwards. */
async function enforcedThenStopped(): Promise<NodeIsolationPlan> {
  const plan = await fixture.writePlan();
  const first = await fixture.startAgent();
  await enforced(plan);
  await first.stop();
  expect(await new PlanCache(fixture.sim.stateDir).load(nodeName)).toMatchObject({ kind: 'ok' });
  driftEveryPod();
  expect(await fixture.mismatches(plan)).not.toEqual([]);
  return plan;
}

describe('API server unreachable', () => {
  it('at start-up: the agent enforces its local copy and runs the suppress loop; it catches up once the server is back', async () => {
    const plan = await enforcedThenStopped();
    fixture.proxy.down();
    const agent = await fixture.startAgent();
    await enforced(plan);
    expect(agent.runtime.ready).toBe(false);
    await suppressFollowsPressure(plan);

    // While still cut off, drift is undone from the local copy on every resync.
    driftEveryPod();
    await enforced(plan);

    fixture.proxy.up();
    const changed = await fixture.writePlan({ classes: { LS: { oomScoreAdj: -123 } } });
    await enforced(changed);
    await appliedOnServer(changed);
    expect(agent.runtime.ready).toBe(true);
  }, 30_000);

  it('for a while: enforcement and the suppress loop carry on; status writes fail softly; changes made meanwhile arrive', async () => {
    const plan = await fixture.writePlan();
    const agent = await fixture.startAgent();
    await appliedOnServer(plan);
    fixture.proxy.down();
    const changed = await fixture.writePlan({ classes: { LS: { oomScoreAdj: -222 } } });
    driftEveryPod();
    await enforced(plan);
    await suppressFollowsPressure(plan);
    await eventually(() =>
      expect(agent.logs.map(l => l.msg)).toContain('plan status not written; enforcing anyway'),
    );
    fixture.proxy.up();
    await enforced(changed);
    await appliedOnServer(changed);
  }, 30_000);
});

describe('agent restart', () => {
  it('BE pods outside the besteffort directory stay capped at the tier quota across a restart (no escape window)', async () => {
    await fixture.sim.setPressure(97);
    const plan = await fixture.writePlan();
    const cpuMax = (): string => readFileSync(join(podDir('be-requests'), 'cpu.max'), 'utf8').trim();
    const tierAt97 = quotaAt(plan.spec.cpuSuppress, 97);
    const first = await fixture.startAgent();
    await eventually(() => expect(cpuMax()).toBe(`${tierAt97} 100000`), 5000);
    await first.stop();

    // Restarted, with or without the API server: its first pass already caps the pod at the tier left in force.
    fixture.proxy.down();
    await fixture.startAgent();
    expect(cpuMax()).toBe(`${tierAt97} 100000`);
    await new Promise(resolve => setTimeout(resolve, 600));
    expect(cpuMax()).toBe(`${tierAt97} 100000`);
    await enforced(plan);
  }, 30_000);
});

describe('local plan copy', () => {
  const corruptions: [string, (text: string) => string, RegExp][] = [
    ['truncated', text => text.slice(0, Math.floor(text.length / 2)), /truncated/],
    [
      'tampered (checksum mismatch)',
      text => text.replace(/"oomScoreAdj":-300/g, '"oomScoreAdj":-1000'),
      /checksum mismatch/,
    ],
    ['for another node', text => text.replace(/"nodeName":"n1"/, '"nodeName":"n2"'), /checksum|another|n2/],
  ];

  for (const [what, corrupt, reason] of corruptions) {
    it(`${what}: detected, ignored (nothing applied from it), and replaced once the API server answers`, async () => {
      const plan = await enforcedThenStopped();
      const cache = new PlanCache(fixture.sim.stateDir);
      writeFileSync(cache.path, corrupt(readFileSync(cache.path, 'utf8')));
      const loaded = await cache.load(nodeName);
      expect(loaded.kind).toBe('corrupt');
      expect(loaded.kind === 'corrupt' ? loaded.reason : '').toMatch(reason);
      const drifted = readFileSync(join(podDir('ls'), 'cpu.weight'), 'utf8');

      fixture.proxy.down();
      const agent = await fixture.startAgent();
      const warning = agent.logs.find(l => l.msg === 'local plan copy ignored');
      expect(warning?.reason).toMatch(reason);
      await new Promise(resolve => setTimeout(resolve, 500));
      expect(readFileSync(join(podDir('ls'), 'cpu.weight'), 'utf8')).toBe(drifted);
      expect(agent.runtime.currentPlan).toBeUndefined();

      fixture.proxy.up();
      await enforced(plan);
      await eventually(async () => expect(await cache.load(nodeName)).toMatchObject({ kind: 'ok' }), 5000);
    }, 30_000);
  }
});

/** Fails writes whose path ends with one of the keys, with that errno, while `active`. */
function failingFs(
  failures: ReadonlyMap<string, string>,
): AgentFs & { attempts: Map<string, number>; active: boolean } {
  const attempts = new Map<string, number>();
  const fs = {
    ...nodeFs,
    attempts,
    active: true,
    writeFile: async (path: string, data: string) => {
      const suffix = [...failures.keys()].find(key => path.endsWith(key));
      if (suffix !== undefined) {
        attempts.set(suffix, (attempts.get(suffix) ?? 0) + 1);
        if (fs.active) throw errnoError(failures.get(suffix) ?? 'EIO', `injected for ${suffix}`);
      }
      await nodeFs.writeFile(path, data);
    },
  };
  return fs;
}

describe('cgroup files that fail', () => {
  it('EINVAL and EBUSY: that pod degraded with the errno, retried with backoff, the others applied; ENOENT: knob unsupported', async () => {
    const key = (pod: string, file: string): string => join(`pod${fixture.pods.get(pod)?.uid ?? '?'}`, file);
    const failures = new Map([
      [key('ls', 'cpu.max'), 'EINVAL'],
      [key('lse', 'cpuset.cpus'), 'EBUSY'],
    ]);
    // ENOENT on a file of a live directory: the file is not there, i.e. the kernel lacks the knob.
    const fs = failingFs(failures);
    const missing = key('be-requests', 'memory.high');
    const withMissing: AgentFs = {
      ...fs,
      writeFile: (path, data) => fs.writeFile(path, data),
      exists: async path => !path.endsWith(missing) && (await nodeFs.exists(path)),
      readFile: async path => {
        if (path.endsWith(missing)) throw errnoError('ENOENT', path);
        return nodeFs.readFile(path);
      },
    };
    const plan = await fixture.writePlan();
    await fixture.startAgent({ fs: withMissing, resyncMs: 50, backoffBaseMs: 200, backoffMaxMs: 800 });

    const status = await eventually(async () => {
      const stored = await fixture.cluster.plan(nodeName);
      expect(stored?.status?.podFailures?.length).toBe(2);
      return stored?.status;
    });
    expect(status?.conditions?.find(c => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'PodFailures',
    });
    expect(
      status?.podFailures?.map(f => `${f.pod} ${f.knob} ${f.message.split(':')[0] ?? ''}`).sort(),
    ).toEqual(['default/ls cpu.max EINVAL', 'default/lse cpuset.cpus EBUSY']);
    expect(status?.unsupported).toEqual(
      expect.arrayContaining([expect.stringMatching(/^memory\.high: .*does not exist/)]),
    );
    const mismatches = await fixture.mismatches(plan);
    expect(mismatches.filter(m => m.startsWith('be:'))).toEqual([]);
    expect(mismatches.filter(m => m.startsWith('ls:'))).toEqual([expect.stringMatching(/^ls: cpu.max /)]);
    expect(mismatches.filter(m => m.startsWith('lse:')).every(m => m.includes('cpuset'))).toBe(true);
    expect(mismatches.filter(m => m.startsWith('be-requests:'))).toEqual([
      expect.stringMatching(/^be-requests: memory.high/),
    ]);

    // Backoff: over two seconds of 50 ms resyncs (40 passes) the failing write is tried only a handful of times,
    // and while the pods wait for their retry the status keeps naming them and their errno.
    const before = fs.attempts.get(key('ls', 'cpu.max')) ?? 0;
    const reported = new Set<string>();
    for (const end = Date.now() + 2000; Date.now() < end;) {
      const failures = (await fixture.cluster.plan(nodeName))?.status?.podFailures ?? [];
      reported.add(
        failures
          .map(f => `${f.pod} ${f.knob}`)
          .sort()
          .join(', '),
      );
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    expect([...reported]).toEqual(['default/ls cpu.max, default/lse cpuset.cpus']);
    const during = (fs.attempts.get(key('ls', 'cpu.max')) ?? 0) - before;
    expect(during).toBeGreaterThanOrEqual(1);
    expect(during).toBeLessThanOrEqual(5);

    // The kernel takes the writes again: the next retry applies them and the status clears.
    fs.active = false;
    await eventually(async () => {
      const stored = await fixture.cluster.plan(nodeName);
      expect(stored?.status?.conditions?.find(c => c.type === 'Degraded')?.status).toBe('False');
    }, 5000);
    const left = await fixture.mismatches(plan);
    expect(left).toEqual([expect.stringMatching(/^be-requests: memory.high/)]);
  }, 30_000);
});

describe('plans the agent cannot apply', () => {
  async function refusedKeepingPrevious(
    agent: AgentUnderTest,
    plan: NodeIsolationPlan,
    reason: RegExp,
  ): Promise<void> {
    const stored = await eventually(async () => {
      const p = await fixture.cluster.plan(nodeName);
      expect(p?.status?.conditions?.find(c => c.type === 'Degraded')).toMatchObject({
        status: 'True',
        reason: 'PlanRefused',
      });
      return p;
    }, 5000);
    expect(stored?.status?.conditions?.find(c => c.type === 'Degraded')?.message).toMatch(reason);
    expect(stored?.status?.conditions?.find(c => c.type === 'Applied')).toMatchObject({ status: 'False' });
    expect(stored?.status?.appliedGeneration).toBe(plan.metadata.generation);
    expect(await fixture.mismatches(plan)).toEqual([]);
    expect(agent.runtime.currentPlan?.spec).toEqual(plan.spec);
    expect(await new PlanCache(fixture.sim.stateDir).load(nodeName)).toEqual({
      kind: 'ok',
      plan: agent.runtime.currentPlan,
    });
  }

  it('a plan for another node: Degraded with the reason, every previous value kept', async () => {
    const plan = await fixture.writePlan();
    const agent = await fixture.startAgent();
    await appliedOnServer(plan);
    const hostile = structuredClone(plan);
    hostile.spec.nodeName = 'n2';
    hostile.spec.pods = hostile.spec.pods.map(p => ({
      ...p,
      oomScoreAdj: 1000,
      cpu: { ...p.cpu, shares: 2 },
    }));
    await kubeWriter(fixture.cluster.http).applyPlan(hostile);
    await refusedKeepingPrevious(agent, plan, /plan is for node "n2", this agent runs on "n1"/);
  }, 30_000);

  it('a plan that fails validation (written past the API server): Degraded with the field, previous values kept', async () => {
    const plan = await fixture.writePlan();
    const agent = await fixture.startAgent();
    await appliedOnServer(plan);
    const stored = fixture.server.store.get('nodeisolationplans.nodeqos.io', '', nodeName);
    if (!stored) throw new Error('no stored plan');
    const spec = stored.spec as NodeIsolationPlan['spec'];
    // A newer controller's value this agent's schema does not know, e.g. after a CRD upgrade ahead of the agents.
    const invalid = {
      ...spec,
      pods: spec.pods.map((p, i) => (i === 0 ? { ...p, cpu: { ...p.cpu, pinned: 'numa-shared' } } : p)),
    };
    fixture.server.store.update('nodeisolationplans.nodeqos.io', { ...stored, spec: invalid });
    await refusedKeepingPrevious(agent, plan, /pinned/);

    // A relist (here after an API server restart that lost the watch history) sees the same plan: still refused,
    // never mistaken for a deleted plan (which would restore every pod to kubelet's values).
    const restartsBefore = agent.logs.filter(l => l.msg === 'informer restarting').length;
    fixture.server.faults.restart({ loseHistory: true });
    await eventually(() => {
      const restarts = agent.logs.filter(
        l => l.msg === 'informer restarting' && String(l.reason).includes('410'),
      );
      expect(restarts.length).toBeGreaterThan(0);
    }, 10_000);
    expect(agent.logs.filter(l => l.msg === 'informer restarting').length).toBeGreaterThan(restartsBefore);
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(agent.logs.map(l => l.msg)).not.toContain('plan deleted: kubelet values restored');
    await refusedKeepingPrevious(agent, plan, /pinned/);
  }, 30_000);
});
