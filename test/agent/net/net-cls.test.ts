// net_cls.classid is an executor knob: written through the executor with a saved original, skipped when equal,
// restored when the pod leaves the plan, and reported (never mounted, never retried) where no hierarchy carries it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeAgent, type PlanApplied } from '../../../src/agent/apply-plan.ts';
import { NetQos } from '../../../src/agent/executor/net-qos.ts';
import { execRunner } from '../../../src/agent/executor/command-runner.ts';
import { classidCodec } from '../../../src/agent/mechanisms/core/codecs.ts';
import { plan, planPod, uids } from '../helpers/plans.ts';
import { v1Mountinfo, v1Node, v1PodDir } from '../helpers/trees.ts';
import type { MemoryFs } from '../helpers/memory-fs.ts';
import { memoryNodeAgent } from '../helpers/memory-agent.ts';

const pod = { uid: uids.be, kubeQoS: 'BestEffort' as const, containers: ['c1'] };
const netClsMount = '41 30 0:38 / /cg/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio';
let stateDir = '';

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-netcls-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** A v1 node; withNetCls adds a mounted net_cls hierarchy holding the pod (classid 0, as the kernel starts it). */
function node(withNetCls: boolean, podInNetCls = true): MemoryFs {
  const fs = v1Node([pod]);
  if (withNetCls) {
    fs.files.set('/proc/self/mountinfo', `${v1Mountinfo}\n${netClsMount}`);
    fs.cgroup('/cg/net_cls,net_prio/kubepods/besteffort', { 'net_cls.classid': '0' });
    if (podInNetCls) fs.cgroup(v1PodDir('net_cls,net_prio', pod), { 'net_cls.classid': '0' });
  }
  return fs;
}

async function agentOn(fs: MemoryFs, networkQos = true): Promise<NodeAgent> {
  return memoryNodeAgent({
    fs,
    stateDir,
    logger: pino({ level: 'silent' }),
    netQos: networkQos
      ? new NetQos({ dev: 'eth0', run: () => Promise.reject(new Error('no tc here')) })
      : undefined,
  });
}

const bePod = planPod({ uid: pod.uid, name: 'be', qosClass: 'BE', kubeQoS: 'BestEffort' });
const classidFile = `${v1PodDir('net_cls,net_prio', pod)}/net_cls.classid`;

describe('net_cls.classid through the executor', () => {
  it('writes the class classid in decimal, skips it when equal, and restores the original', async () => {
    const fs = node(true);
    const agent = await agentOn(fs);
    const first = (await agent.applyPlan(plan('n', [bePod]))) as PlanApplied;
    expect(first.pods[0]?.written).toContainEqual({ knob: 'net_cls.classid' });
    expect(fs.get(classidFile)).toBe(String(0x00010001));
    expect(first.unsupported).toEqual([]);

    const again = (await agent.applyPlan(plan('n', [bePod]))) as PlanApplied;
    expect(again.pods[0]?.skipped).toContainEqual({ knob: 'net_cls.classid' });
    expect(fs.writesTo('net_cls.classid')).toHaveLength(1);

    const deleted = await agent.deletePlan();
    expect(deleted.restored[0]?.written).toContainEqual({ knob: 'net_cls.classid' });
    expect(fs.get(classidFile)).toBe('0');
  });

  it('a pod with no cgroup in the net_cls hierarchy is reported for that knob, and its other values still apply', async () => {
    const fs = node(true, false);
    const report = (await (await agentOn(fs)).applyPlan(plan('n', [bePod]))) as PlanApplied;
    expect(report.pods[0]?.outcome).toBe('applied');
    expect(report.pods[0]?.written).toContainEqual({ knob: 'cpuset.cpus' });
    expect(report.unsupported.join('\n')).toMatch(
      /net_cls.classid: the pod has no cgroup in the net_cls hierarchy/,
    );
  });

  it('no net_cls hierarchy: one node-level line, no mount attempt and no write, on every pass', async () => {
    const fs = node(false);
    const agent = await agentOn(fs);
    for (let pass = 0; pass < 2; pass++) {
      const report = (await agent.applyPlan(plan('n', [bePod]))) as PlanApplied;
      expect(report.unsupported.filter(line => line.startsWith('net_cls.classid'))).toEqual([
        expect.stringMatching(/no cgroup v1 hierarchy carries net_cls .* does not mount one/) as unknown,
      ]);
    }
    expect(fs.writes.filter(w => w.path.includes('net_cls'))).toEqual([]);
    expect([...fs.dirs].filter(d => d.includes('net_cls'))).toEqual([]);
  });

  it('network QoS off: net_cls is neither written nor reported', async () => {
    const fs = node(true);
    const report = (await (await agentOn(fs, false)).applyPlan(plan('n', [bePod]))) as PlanApplied;
    expect(fs.writesTo('net_cls.classid')).toEqual([]);
    expect(report.unsupported).toEqual([]);
  });

  it('the codec reads the kernel decimal and hand-written hex, and refuses what is not a u32', () => {
    expect(classidCodec.parse('65540\n')).toBe(0x00010004);
    expect(classidCodec.parse('0x00010004')).toBe(0x00010004);
    expect(() => classidCodec.parse('1:4')).toThrow(/not an integer/);
    expect(classidCodec.invalid(2 ** 32)).toMatch(/outside 0..4294967295/);
    expect(classidCodec.lines(0, 0x00010004, false)).toEqual(['65540']);
    expect(classidCodec.show(65540)).toBe('0x00010004');
  });
});

describe('net_cls on the real kernel (private mount namespace)', () => {
  it('the agent tags a pod in a mounted net_cls hierarchy, skips it when equal and puts 0 back', async ctx => {
    const script = join(import.meta.dirname, 'net-cls-kernel.script.ts');
    let stdout: string;
    try {
      ({ stdout } = await execRunner('unshare', [
        '--mount',
        '--propagation',
        'private',
        process.execPath,
        script,
      ]));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/unshare failed|Operation not permitted|Permission denied/.test(message))
        ctx.skip(`needs root for unshare and mount: ${message}`);
      throw error;
    }
    expect(JSON.parse(stdout)).toEqual({
      before: '0',
      applied: String(0x00010001),
      restored: '0',
      firstWrote: true,
      secondSkipped: true,
      restoreWrote: true,
    });
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toMatch(/nodeqos-test-netcls/);
  });
});
