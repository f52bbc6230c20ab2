// Real cgroup v1 kernel: cpu.idle on the BE tier (spec.cpuSuppress.beIdle) in a private kubepods root
// nodeqos-test-<random>. The agent sets it, leaves it alone on re-apply, restores cpu.idle=0 AND the tier's
// original cpu.shares (clearing cpu.idle resets shares to 1024), also after a restart from its saved originals and
// when the plan is deleted. The tree is removed in afterAll even when a test fails.
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { removeDir } from '../support/kubepods.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplyReport } from '../../src/agent/apply-plan.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { plan, planPod, uids } from './helpers/plans.ts';

const cgroupRoot = '/sys/fs/cgroup';
const controllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;
const testRoot = `nodeqos-test-${randomBytes(4).toString('hex')}`;
const nodeName = 'kernel-node';
const tierCpu = join(cgroupRoot, 'cpu', testRoot, 'besteffort');
const podCpu = join(tierCpu, `pod${uids.be}`);

async function read(file: string): Promise<string> {
  return (await readFile(join(tierCpu, file), 'utf8')).trim();
}

async function usable(): Promise<boolean> {
  try {
    for (const controller of controllers) await access(join(cgroupRoot, controller), constants.W_OK);
    await access(join(cgroupRoot, 'cpu', 'cpu.idle'));
    return true;
  } catch {
    return false;
  }
}

function tierPlan(beIdle: boolean | undefined): NodeIsolationPlan {
  const p = plan(nodeName, [
    planPod({ uid: uids.be, name: 'be', qosClass: 'BE', kubeQoS: 'BestEffort', cpu: { shares: 2 } }),
  ]);
  return { ...p, spec: { ...p.spec, cpuSuppress: { ...p.spec.cpuSuppress, beIdle } } };
}

function applied(report: PlanApplyReport): Extract<PlanApplyReport, { status: 'applied' | 'degraded' }> {
  if (report.status === 'refused') throw new Error(`refused: ${report.reason} ${report.issues.join('; ')}`);
  return report;
}

const enabled = await usable();
let stateDir = '';

async function newAgent(): Promise<NodeAgent> {
  return NodeAgent.create({
    nodeName,
    stateDir,
    kubepodsDir: testRoot,
    driver: 'cgroupfs',
    registry: new Registry(),
  });
}

describe.skipIf(!enabled)('BE tier cpu.idle on the real cgroup v1 kernel', () => {
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-tier-idle-'));
    const cpus = (await readFile(join(cgroupRoot, 'cpuset', 'cpuset.cpus'), 'utf8')).trim();
    for (const controller of controllers) {
      const top = join(cgroupRoot, controller, testRoot);
      for (const dir of [
        top,
        join(top, 'burstable'),
        join(top, 'besteffort'),
        join(top, 'besteffort', `pod${uids.be}`),
      ]) {
        await mkdir(dir);
        if (controller !== 'cpuset') continue;
        await writeFile(join(dir, 'cpuset.cpus'), cpus);
        await writeFile(join(dir, 'cpuset.mems'), '0');
      }
    }
    // kubelet's value for the besteffort QoS directory.
    await writeFile(join(tierCpu, 'cpu.shares'), '2');
  });

  afterAll(async () => {
    for (const controller of controllers) await removeDir(join(cgroupRoot, controller, testRoot));
    if (stateDir !== '') await rm(stateDir, { recursive: true, force: true });
  });

  it('writes cpu.idle=1 on the besteffort directory only, and saves the originals first', async () => {
    const agent = await newAgent();
    const report = applied(await agent.applyPlan(tierPlan(true)));
    expect(report.status).toBe('applied');
    expect(report.tierIdle?.written).toEqual([{ knob: 'cpu.idle' }]);
    expect(await read('cpu.idle')).toBe('1');
    expect(await read('cpu.shares')).toBe('3'); // the kernel's idle weight
    expect((await readFile(join(podCpu, 'cpu.idle'), 'utf8')).trim()).toBe('0');
    const saved = JSON.parse(await readFile(join(stateDir, 'original-values.json'), 'utf8')) as {
      payload: { tier?: Record<string, unknown> };
    };
    expect(saved.payload.tier).toEqual({ 'cpu.idle': 0, 'cpu.shares': 2 });
    // Re-applying the same plan writes nothing.
    const again = applied(await agent.applyPlan(tierPlan(true)));
    expect(again.tierIdle?.written ?? []).toEqual([]);
    expect(again.tierIdle?.skipped).toEqual([{ knob: 'cpu.idle' }]);
  });

  it('a restarted agent restores cpu.idle=0 and then the saved cpu.shares when the plan turns it off', async () => {
    const agent = await newAgent();
    const report = applied(await agent.applyPlan(tierPlan(false)));
    expect(report.status).toBe('applied');
    expect(report.tierIdle?.written).toEqual([{ knob: 'cpu.idle' }, { knob: 'cpu.shares' }]);
    expect(await read('cpu.idle')).toBe('0');
    expect(await read('cpu.shares')).toBe('2'); // not the 1024 the kernel sets when idle is cleared
    // Off and restored: later plans without it read nothing.
    const later = applied(await agent.applyPlan(tierPlan(undefined)));
    expect(later.tierIdle).toBeUndefined();
  });

  it('deleting the plan restores the tier', async () => {
    const agent = await newAgent();
    applied(await agent.applyPlan(tierPlan(true)));
    expect(await read('cpu.idle')).toBe('1');
    const deleted = await agent.deletePlan();
    expect(deleted.status).toBe('applied');
    expect(await read('cpu.idle')).toBe('0');
    expect(await read('cpu.shares')).toBe('2');
    const saved = JSON.parse(await readFile(join(stateDir, 'original-values.json'), 'utf8')) as {
      payload: { tier?: Record<string, unknown> };
    };
    expect(saved.payload.tier).toBeUndefined();
  });
});
