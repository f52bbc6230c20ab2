// Run by net-cls.test.ts under `unshare --mount --propagation private`. In that private mount namespace only, it mounts
// a net_cls hierarchy and a second view of the cpu hierarchy under a temp dir, makes a nodeqos-test-* kubepods tree with
// one BestEffort pod in both, and lets the real agent apply, re-apply and delete a plan. The agent itself never mounts
// anything. Everything it made is removed again; the kernel keeps a v1 hierarchy alive while a removed child is being
// released, so it waits for the release before unmounting. Prints one JSON line.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { NodeAgent, type PlanApplied } from '../../../src/agent/apply-plan.ts';
import { NetQos } from '../../../src/agent/executor/net-qos.ts';
import { execRunner } from '../../../src/agent/executor/command-runner.ts';
import { plan, planPod, uids } from '../helpers/plans.ts';

async function netClsCgroups(): Promise<number> {
  const line = (await readFile('/proc/cgroups', 'utf8')).split('\n').find(l => l.startsWith('net_cls\t'));
  return Number((line ?? '').split('\t')[2]);
}

const base = await mkdtemp(join(tmpdir(), 'nodeqos-test-netcls-'));
const kubepods = `nodeqos-test-${randomBytes(4).toString('hex')}`;
const mounted: string[] = [];
const made: string[] = [];
try {
  for (const controller of ['cpu', 'net_cls']) {
    const at = join(base, controller);
    await mkdir(at);
    await execRunner('mount', ['-t', 'cgroup', '-o', controller, controller, at]);
    mounted.push(at);
    let dir = at;
    for (const segment of [kubepods, 'besteffort', `pod${uids.be}`]) {
      dir = join(dir, segment);
      await mkdir(dir);
      made.push(dir);
    }
  }
  const agent = await NodeAgent.create({
    nodeName: 'n',
    stateDir: join(base, 'state'),
    cgroupRoot: base,
    hierarchy: 'v1',
    driver: 'cgroupfs',
    kubepodsDir: kubepods,
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
    netQos: new NetQos({ dev: 'lo', run: () => Promise.reject(new Error('tc is not part of this test')) }),
  });
  const pods = [planPod({ uid: uids.be, name: 'be', qosClass: 'BE', kubeQoS: 'BestEffort' })];
  const file = join(base, 'net_cls', kubepods, 'besteffort', `pod${uids.be}`, 'net_cls.classid');
  const before = (await readFile(file, 'utf8')).trim();
  const first = (await agent.applyPlan(plan('n', pods))) as PlanApplied;
  const applied = (await readFile(file, 'utf8')).trim();
  const second = (await agent.applyPlan(plan('n', pods))) as PlanApplied;
  const deleted = await agent.deletePlan();
  const restored = (await readFile(file, 'utf8')).trim();
  const knob = (refs: readonly { knob: string }[]): boolean => refs.some(r => r.knob === 'net_cls.classid');
  process.stdout.write(
    `${JSON.stringify({
      before,
      applied,
      restored,
      firstWrote: knob(first.pods[0]?.written ?? []),
      secondSkipped: knob(second.pods[0]?.skipped ?? []),
      restoreWrote: knob(deleted.restored[0]?.written ?? []),
    })}\n`,
  );
} finally {
  for (const dir of made.reverse()) await rmdir(dir).catch(() => undefined);
  for (let i = 0; i < 150 && (await netClsCgroups()) > 1; i++) await sleep(20);
  for (const at of mounted.reverse()) await execRunner('umount', [at]);
  await rm(base, { recursive: true, force: true });
}
