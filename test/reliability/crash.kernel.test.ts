// Crash safety on the real cgroup v1 kernel: `nodeqos agent --once` is killed with SIGKILL at random points of an
// apply, 50 times, alternating between two plans (so every kill can land between an original being recorded and
// its write, or in the middle of a pod). Then `nodeqos agent --restore` must put back every original value exactly:
// every knob of every pod and container directory, the BE tier quota, and each process's oom_score_adj.
// The tree is a private nodeqos-test-<random> kubepods root under cpu, cpuset, memory and blkio, removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { removeDir } from '../support/kubepods.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeQoS } from '../../src/api/group.ts';
import { plan, planPod, uids } from '../agent/helpers/plans.ts';

const cgroupRoot = '/sys/fs/cgroup';
const controllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;
const testRoot = `nodeqos-test-${randomBytes(4).toString('hex')}`;
const container = 'c-main';
const kills = 50;
const cli = resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

interface CrashPod {
  readonly uid: string;
  readonly kubeQoS: KubeQoS;
}
const pods: CrashPod[] = [
  { uid: uids.lse, kubeQoS: 'Guaranteed' },
  { uid: uids.ls, kubeQoS: 'Burstable' },
  { uid: uids.be, kubeQoS: 'BestEffort' },
];

/** Every file the agent may write, per controller. */
const knobFiles: Record<(typeof controllers)[number], string[]> = {
  cpu: ['cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  memory: ['memory.limit_in_bytes', 'memory.soft_limit_in_bytes'],
  blkio: [
    'blkio.weight',
    'blkio.bfq.weight',
    'blkio.throttle.read_bps_device',
    'blkio.throttle.write_bps_device',
    'blkio.throttle.read_iops_device',
    'blkio.throttle.write_iops_device',
  ],
};

function podDir(controller: string, pod: CrashPod, withContainer = false): string {
  const qos = pod.kubeQoS === 'Guaranteed' ? [] : [pod.kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'];
  return join(
    cgroupRoot,
    controller,
    testRoot,
    ...qos,
    `pod${pod.uid}`,
    ...(withContainer ? [container] : []),
  );
}

const sleepers: ChildProcess[] = [];
let work = '';
let skipReason: string | undefined;

async function writable(): Promise<boolean> {
  try {
    for (const controller of controllers) await access(join(cgroupRoot, controller), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function createTree(): Promise<void> {
  for (const controller of controllers) {
    const base = join(cgroupRoot, controller, testRoot);
    const dirs = [base, join(base, 'burstable'), join(base, 'besteffort')];
    for (const pod of pods) dirs.push(podDir(controller, pod), podDir(controller, pod, true));
    for (const dir of dirs) {
      await mkdir(dir);
      if (controller === 'cpuset') {
        await writeFile(join(dir, 'cpuset.cpus'), '0-1');
        await writeFile(join(dir, 'cpuset.mems'), '0');
      }
    }
  }
  for (const pod of pods) {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    sleepers.push(child);
    for (const controller of controllers)
      await writeFile(join(podDir(controller, pod, true), 'cgroup.procs'), String(child.pid));
  }
}

/** Every knob file of every pod and container directory, the tier quota, and every sleeper's oom_score_adj. */
async function snapshot(): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  const paths = controllers.flatMap(controller =>
    pods.flatMap(pod =>
      [podDir(controller, pod), podDir(controller, pod, true)].flatMap(dir =>
        knobFiles[controller].map(file => join(dir, file)),
      ),
    ),
  );
  for (const path of paths) {
    // A file this kernel does not have (blkio.weight without CFQ) has nothing to compare.
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) values[path] = text.trim();
  }
  const tier = join(cgroupRoot, 'cpu', testRoot, 'besteffort', 'cpu.cfs_quota_us');
  values[tier] = (await readFile(tier, 'utf8')).trim();
  for (const sleeper of sleepers)
    values[`/proc/${sleeper.pid}/oom_score_adj`] = (
      await readFile(`/proc/${sleeper.pid}/oom_score_adj`, 'utf8')
    ).trim();
  return values;
}

function planFile(variant: 0 | 1): ReturnType<typeof plan> {
  const [lse, ls, be] = pods as [CrashPod, CrashPod, CrashPod];
  const wide = variant === 0;
  return plan('crash-node', [
    planPod({
      uid: lse.uid,
      name: 'lse',
      qosClass: 'LSE',
      kubeQoS: 'Guaranteed',
      cpu: { shares: wide ? 2048 : 4096, cfsQuotaUs: wide ? 200000 : 100000, cpuset: wide ? '1' : '0' },
      memory: { maxBytes: wide ? 1 << 30 : 1 << 29, lowBytes: 1 << 27 },
      oomScoreAdj: wide ? -900 : -700,
    }),
    planPod({
      uid: ls.uid,
      name: 'ls',
      qosClass: 'LS',
      kubeQoS: 'Burstable',
      cpu: { shares: wide ? 512 : 768, cfsQuotaUs: wide ? 150000 : 50000, cpuset: '0-1' },
      memory: { maxBytes: 1 << 29 },
      oomScoreAdj: wide ? 300 : 500,
      blkio: { weight: wide ? 500 : 800 },
    }),
    planPod({
      uid: be.uid,
      name: 'be',
      qosClass: 'BE',
      kubeQoS: 'BestEffort',
      cpu: { shares: 2, cpuset: wide ? '0' : '0-1' },
      oomScoreAdj: 1000,
      blkio: {
        weight: 100,
        throttle: [{ device: 'all', readBps: wide ? 524288000 : 104857600, writeBps: 209715200 }],
      },
    }),
  ]);
}

function agentArgs(extra: readonly string[]): string[] {
  return [
    cli,
    'agent',
    ...extra,
    '--cgroup-root',
    cgroupRoot,
    '--cgroup-version',
    'v1',
    '--cgroup-driver',
    'cgroupfs',
    '--kubepods',
    testRoot,
    '--state-dir',
    join(work, 'state'),
    '--log-level',
    'info',
  ];
}

interface Run {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /**
   * ms from spawn to the "cgroup layout discovered" log line (undefined: none before the end): the apply starts
   * right after it. (Anchoring at the first "cgroup write" line no longer works: the agent reads every pod and
   * saves the originals once before it writes, and its synchronous writes end a few ms later, inside the jitter
   * of a kill timer.)
   */
  readonly applyStartMs: number | undefined;
  readonly totalMs: number;
}

/** Runs the agent; with killAtMs, SIGKILLs it that long after discovery (the apply under way). */
function runAgent(args: readonly string[], killAfterFirstWriteMs?: number): Promise<Run> {
  return new Promise(done => {
    const started = performance.now();
    let applyStartMs: number | undefined;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onOutput = (chunk: Buffer): void => {
      if (applyStartMs !== undefined || !chunk.toString().includes('"msg":"cgroup layout discovered"'))
        return;
      applyStartMs = performance.now() - started;
      if (killAfterFirstWriteMs !== undefined)
        setTimeout(() => child.kill('SIGKILL'), killAfterFirstWriteMs).unref();
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.on('exit', (exitCode, signal) => {
      done({ exitCode, signal, applyStartMs, totalMs: performance.now() - started });
    });
  });
}

beforeAll(async () => {
  if (!(await writable())) {
    skipReason = `${cgroupRoot}/{cpu,cpuset,memory,blkio} are not writable (needs root and cgroup v1)`;
    return;
  }
  work = await mkdtemp(join(tmpdir(), 'nodeqos-crash-'));
  for (const variant of [0, 1] as const)
    await writeFile(join(work, `plan-${variant}.json`), JSON.stringify(planFile(variant)));
  await createTree();
}, 60_000);

afterAll(async () => {
  for (const sleeper of sleepers) sleeper.kill('SIGKILL');
  for (const controller of controllers) await removeDir(join(cgroupRoot, controller, testRoot));
  if (work !== '') await rm(work, { recursive: true, force: true });
}, 60_000);

describe('SIGKILL during an apply, 50 times, then restore', () => {
  it('restore returns every original value exactly', async ctx => {
    if (skipReason !== undefined) ctx.skip(skipReason);
    const originals = await snapshot();
    // One full apply, to learn how long the apply (reads, the originals' save, writes) takes on this machine.
    const full = await runAgent([
      ...agentArgs(['--once', '--plan', join(work, 'plan-0.json')]),
      '--pressure',
      '50',
    ]);
    expect(full.signal).toBeNull();
    expect(full.applyStartMs).toBeDefined();
    const changed = await snapshot();
    expect(changed).not.toEqual(originals);
    // The killed runs switch between the plans, so they write less than the first: their window is what one
    // switch each way takes, from the apply's start to the process's exit. Kills aim at its first three quarters,
    // so most land before the exit even when a run is quicker than the measured one.
    const switches = [];
    for (const variant of [1, 0] as const)
      switches.push(
        await runAgent([
          ...agentArgs(['--once', '--plan', join(work, `plan-${variant}.json`)]),
          '--pressure',
          '40',
        ]),
      );
    const writesMs = Math.max(
      5,
      0.75 * Math.min(...switches.map(run => run.totalMs - (run.applyStartMs ?? 0))),
    );

    let killed = 0;
    for (let i = 0; i < kills; i++) {
      const variant = (i % 2) as 0 | 1;
      const at = Math.random() * writesMs;
      const run = await runAgent(
        [
          ...agentArgs(['--once', '--plan', join(work, `plan-${variant}.json`)]),
          '--pressure',
          String(30 + i),
        ],
        at,
      );
      if (run.signal === 'SIGKILL') killed++;
    }
    // Most kills must land inside an apply, or the test proves little.
    expect(killed).toBeGreaterThanOrEqual(kills / 2);

    const restore = await runAgent(agentArgs(['--restore']));
    expect(restore.exitCode).toBe(0);
    expect(await snapshot()).toEqual(originals);
  }, 600_000);
});
