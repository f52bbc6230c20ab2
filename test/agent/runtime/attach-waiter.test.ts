// The wait for a new container's first process, on real files (a container directory whose cgroup.procs fills).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttachWaiter } from '../../../src/agent/runtime/attach-waiter.ts';

let dir = '';
let waiter: AttachWaiter | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nodeqos-attach-'));
});
afterEach(async () => {
  waiter?.close();
  await rm(dir, { recursive: true, force: true });
});

const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise(resolve => setTimeout(resolve, 5));
  }
};

describe('waiting for a container process', () => {
  it('reports the pod once the container cgroup.procs lists a process, once per container', async () => {
    const container = join(dir, 'c1');
    await mkdir(container);
    await writeFile(join(container, 'cgroup.procs'), '');
    const attached: string[] = [];
    waiter = new AttachWaiter({ attached: uid => attached.push(uid), pollMs: 2 });
    waiter.wait('pod-a/c1', 'pod-a', container);
    waiter.wait('pod-a/c1', 'pod-a', container);
    await new Promise(resolve => setTimeout(resolve, 30));
    expect(attached).toEqual([]);
    await writeFile(join(container, 'cgroup.procs'), '4242\n');
    await until(() => attached.length > 0);
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(attached).toEqual(['pod-a']);
  });

  it('stops waiting silently when the container goes away, and gives up (reporting) after the limit', async () => {
    const attached: string[] = [];
    waiter = new AttachWaiter({ attached: uid => attached.push(uid), pollMs: 2, giveUpMs: 40 });
    waiter.wait('gone/c', 'gone', join(dir, 'never-made'));
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await writeFile(join(empty, 'cgroup.procs'), '');
    waiter.wait('slow/c', 'slow', empty);
    await until(() => attached.length > 0);
    expect(attached).toEqual(['slow']);
  });
});
