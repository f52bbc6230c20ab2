// The "kubelet" of the new-container benchmark, in its own process: creates pods with one container each in a
// sandbox kubepods tree, at random intervals, the way kubelet's cgroupfs driver and runc do it (pod directory in
// every controller, then the container's, cpuset values filled in, then the container's first process attached
// to every controller). Prints one JSON line per container with CLOCK_MONOTONIC timestamps (process.hrtime,
// the same clock in every process): when its first directory was made and when its process was attached.
// Usage: node kubelet-child.ts <sandbox name> <count> <min gap ms> <max gap ms> <seed>
// Pod i has the uid podUid(i) and the QoS directory podTier(i) (kubelet-pods.ts), so a plan can name them ahead.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { podTier, podUid } from './kubelet-pods.ts';

const cgroupRoot = '/sys/fs/cgroup';
const controllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;

const [name, countText, minText, maxText, seedText] = process.argv.slice(2);
if (name?.startsWith('nodeqos-test-') !== true || countText === undefined)
  throw new Error(
    'usage: kubelet-child.ts <nodeqos-test-* sandbox> <count> <min gap ms> <max gap ms> <seed>',
  );
const count = Number(countText);
const minGap = Number(minText ?? '10');
const maxGap = Number(maxText ?? '90');

/** mulberry32: a seeded PRNG, so a run's intervals can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(Number(seedText ?? '1'));
const cpus = readFileSync(join(cgroupRoot, 'cpuset', 'cpuset.cpus'), 'utf8').trim();
const mems = readFileSync(join(cgroupRoot, 'cpuset', 'cpuset.mems'), 'utf8').trim();
const sleepers: ChildProcess[] = [];
const now = (): string => process.hrtime.bigint().toString();

function stopSleepers(): void {
  for (const sleeper of sleepers) sleeper.kill('SIGKILL');
}
process.stdin.on('end', () => {
  stopSleepers();
  process.exit(0);
});
process.stdin.resume();

function makeDir(dir: string, controller: string): void {
  mkdirSync(dir);
  if (controller !== 'cpuset') return;
  writeFileSync(join(dir, 'cpuset.cpus'), cpus);
  writeFileSync(join(dir, 'cpuset.mems'), mems);
}

for (let i = 0; i < count; i++) {
  await sleep(minGap + random() * (maxGap - minGap));
  const uid = podUid(i);
  const tier = podTier(i);
  const container = `c${i.toString(16).padStart(60, '0')}`;
  const podDirs = controllers.map(c => join(cgroupRoot, c, name, tier, `pod${uid}`));
  const mkdirAt = now();
  controllers.forEach((c, k) => {
    makeDir(podDirs[k] ?? '', c);
  });
  controllers.forEach((c, k) => {
    makeDir(join(podDirs[k] ?? '', container), c);
  });
  const madeAt = now();
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  sleepers.push(sleeper);
  const pid = sleeper.pid;
  if (pid === undefined) throw new Error('sleep did not start');
  for (const [k] of controllers.entries())
    writeFileSync(join(podDirs[k] ?? '', container, 'cgroup.procs'), String(pid));
  process.stdout.write(
    `${JSON.stringify({ uid, container, tier, mkdirAt, madeAt, attachedAt: now(), pid })}\n`,
  );
}
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
