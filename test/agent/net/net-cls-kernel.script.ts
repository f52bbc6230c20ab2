// Run by net-cls.test.ts under `unshare --mount --propagation private`: the net_cls hierarchy it mounts is visible
// only in that private mount namespace (never on /sys/fs/cgroup). The kernel keeps a v1 hierarchy alive when it is
// unmounted while a removed child is still being released, so the script waits for the release before unmounting
// and then checks that the hierarchy is gone. Prints one JSON line.
import { mkdir, mkdtemp, readFile, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureNetClsMounted, writeNetClassid } from '../../../src/agent/net/net-cls.ts';
import { execRunner } from '../../../src/agent/net/runner.ts';

/** [hierarchy id, number of cgroups] of net_cls from /proc/cgroups. */
async function netClsHierarchy(): Promise<[number, number]> {
  const line = (await readFile('/proc/cgroups', 'utf8')).split('\n').find(l => l.startsWith('net_cls\t'));
  const [, id, count] = (line ?? '').split('\t');
  return [Number(id), Number(count)];
}

async function waitForRelease(): Promise<void> {
  for (let i = 0; i < 150 && (await netClsHierarchy())[1] > 1; i++) await sleep(20);
}

const base = await mkdtemp(join(tmpdir(), 'nodeqos-test-netcls-'));
let mountPoint: string | undefined;
let ours = false;
let pod: string | undefined;
try {
  const mount = await ensureNetClsMounted({ cgroupRoot: base });
  mountPoint = mount.mountPoint;
  ours = mount.mounted;
  pod = join(mountPoint, 'nodeqos-test-pod');
  await mkdir(pod);
  const first = await writeNetClassid({ version: 1, root: mountPoint, dir: pod, classid: '0x00010004' });
  const raw = await readFile(join(pod, 'net_cls.classid'), 'utf8');
  const second = await writeNetClassid({ version: 1, root: mountPoint, dir: pod, classid: '0x00010004' });
  process.stdout.write(`${JSON.stringify({ mount, first, raw, second })}\n`);
} finally {
  if (pod !== undefined) await rmdir(pod);
  if (ours && mountPoint !== undefined) {
    await waitForRelease();
    await execRunner('umount', [mountPoint]);
  }
  await rm(base, { recursive: true, force: true });
}
