// The cgroup directory watcher on the real cgroup v1 kernel (inotify on cgroupfs), in private nodeqos-test-*
// trees: containers created, removed and re-created; Guaranteed, Burstable and BestEffort pods; the kubepods root
// itself removed and re-created; and the kernel's inotify watch limit reached (a child process in a user
// namespace whose max_inotify_watches is lowered), with the fall-back to rescans and the recovery.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CgroupWatcher, type CgroupWatchEvent } from '../../../src/agent/watch/cgroup-watcher.ts';
import { eventually } from '../../support/eventually.ts';
import { kernelTreeUnavailable, KubepodsTree } from './kubepods-tree.ts';

const controllers = ['cpu', 'memory'];
const uid1 = '11111111-1111-4111-8111-111111111111';
const uid2 = '22222222-2222-4222-8222-222222222222';
const uid3 = '33333333-3333-4333-8333-333333333333';

let unavailable: string | undefined;
let tree: KubepodsTree | undefined;
let watcher: CgroupWatcher | undefined;
let child: ChildProcess | undefined;

beforeAll(() => {
  unavailable = kernelTreeUnavailable(controllers);
  if (unavailable !== undefined) console.warn(`skipping cgroup watcher kernel tests: ${unavailable}`);
});

afterEach(() => {
  watcher?.close();
  watcher = undefined;
  child?.kill('SIGKILL');
  child = undefined;
  try {
    tree?.remove();
  } finally {
    tree = undefined;
  }
});

/** Short form of an event for comparisons: `<type> <hierarchy> <uid-prefix>[/<container>] <source>`. */
function short(event: CgroupWatchEvent): string {
  const target =
    'uid' in event ? `${event.uid.slice(0, 4)}${'container' in event ? `/${event.container}` : ''}` : '-';
  return `${event.type} ${event.hierarchy} ${target}`;
}

function startWatcher(events: CgroupWatchEvent[], reportExisting = false): CgroupWatcher {
  if (!tree) throw new Error('no tree');
  const t = tree;
  watcher = new CgroupWatcher({
    hierarchies: controllers.map(name => ({ name, root: t.root(name) })),
    driver: 'cgroupfs',
    reportExisting,
    onEvent: event => events.push(event),
    onError: error => {
      throw error;
    },
  });
  watcher.start();
  return watcher;
}

const inCpu = (events: CgroupWatchEvent[]): string[] => events.filter(e => e.hierarchy === 'cpu').map(short);

describe('cgroup directory watcher on cgroup v1', () => {
  it('records what exists silently, or reports it as initial', ({ skip }) => {
    if (unavailable !== undefined) skip();
    tree = new KubepodsTree(controllers);
    tree.mkdir('');
    tree.mkdir('burstable');
    tree.mkdir(`burstable/pod${uid1}`);
    tree.mkdir(`burstable/pod${uid1}/c1`);
    tree.mkdir(`pod${uid2}`);
    const silent: CgroupWatchEvent[] = [];
    const w = startWatcher(silent);
    expect(silent).toEqual([]);
    expect(w.snapshot().get('cpu')?.get(uid1)).toMatchObject({ kubeQoS: 'Burstable', containers: ['c1'] });
    expect(w.snapshot().get('memory')?.get(uid2)).toMatchObject({ kubeQoS: 'Guaranteed', containers: [] });
    // parent + root + burstable + 2 pods, in each of the two hierarchies
    expect(w.watchCount).toBe(10);
    w.close();
    const reported: CgroupWatchEvent[] = [];
    startWatcher(reported, true);
    expect(inCpu(reported)).toEqual([
      'root-added cpu -',
      `pod-added cpu 1111`,
      `container-added cpu 1111/c1`,
      `pod-added cpu 2222`,
    ]);
    expect(reported.every(e => e.source === 'initial')).toBe(true);
  });

  it('reports containers created, removed and re-created, in every hierarchy, through inotify', async ({
    skip,
  }) => {
    if (unavailable !== undefined) skip();
    tree = new KubepodsTree(controllers);
    tree.mkdir('');
    tree.mkdir('burstable');
    tree.mkdir('besteffort');
    const events: CgroupWatchEvent[] = [];
    startWatcher(events);
    tree.mkdir(`burstable/pod${uid1}`);
    tree.mkdir(`burstable/pod${uid1}/c1`);
    await eventually(() => events.length === 4);
    tree.rmdir(`burstable/pod${uid1}/c1`);
    await eventually(() => events.length === 6);
    tree.mkdir(`burstable/pod${uid1}/c1`);
    await eventually(() => events.length === 8);
    // Removed and made again within one turn of the event loop: a new inode, so removed then added.
    tree.rmdir(`burstable/pod${uid1}/c1`, 'cpu');
    tree.mkdir(`burstable/pod${uid1}/c1`, 'cpu');
    await eventually(() => events.length === 10);
    tree.mkdir(`besteffort/pod${uid3}`, 'cpu');
    tree.mkdir(`besteffort/pod${uid3}/c9`, 'cpu');
    await eventually(() => events.length === 12);
    expect(inCpu(events)).toEqual([
      'pod-added cpu 1111',
      'container-added cpu 1111/c1',
      'container-removed cpu 1111/c1',
      'container-added cpu 1111/c1',
      'container-removed cpu 1111/c1',
      'container-added cpu 1111/c1',
      'pod-added cpu 3333',
      'container-added cpu 3333/c9',
    ]);
    expect(events.filter(e => e.hierarchy === 'memory').map(short)).toEqual([
      'pod-added memory 1111',
      'container-added memory 1111/c1',
      'container-removed memory 1111/c1',
      'container-added memory 1111/c1',
    ]);
    expect(events.every(e => e.source === 'inotify')).toBe(true);
    const added = events.find(e => e.type === 'container-added');
    expect(added).toMatchObject({ kubeQoS: 'Burstable', uid: uid1, container: 'c1' });
    expect(added?.dir).toBe(`${tree.root('cpu')}/burstable/pod${uid1}/c1`);
  });

  it('reports a pod removed with its containers, containers first', async ({ skip }) => {
    if (unavailable !== undefined) skip();
    tree = new KubepodsTree(['cpu']);
    tree.mkdir('');
    tree.mkdir(`pod${uid2}`);
    tree.mkdir(`pod${uid2}/a`);
    tree.mkdir(`pod${uid2}/b`);
    const events: CgroupWatchEvent[] = [];
    watcher = new CgroupWatcher({
      hierarchies: [{ name: 'cpu', root: tree.root('cpu') }],
      driver: 'cgroupfs',
      onEvent: event => events.push(event),
    });
    watcher.start();
    // Like kubelet: containers go first, then the pod; all within one turn here, so one pass sees the pod gone.
    tree.rmdir(`pod${uid2}/a`);
    tree.rmdir(`pod${uid2}/b`);
    tree.rmdir(`pod${uid2}`);
    await eventually(() => events.some(e => e.type === 'pod-removed'));
    expect(events.map(short).sort()).toEqual(
      ['container-removed cpu 2222/a', 'container-removed cpu 2222/b', 'pod-removed cpu 2222'].sort(),
    );
    expect(events.at(-1)?.type).toBe('pod-removed');
  });

  it('follows the kubepods root itself being removed and re-created', async ({ skip }) => {
    if (unavailable !== undefined) skip();
    tree = new KubepodsTree(['cpu']);
    tree.mkdir('');
    tree.mkdir(`pod${uid1}`);
    tree.mkdir(`pod${uid1}/c1`);
    const events: CgroupWatchEvent[] = [];
    watcher = new CgroupWatcher({
      hierarchies: [{ name: 'cpu', root: tree.root('cpu') }],
      driver: 'cgroupfs',
      onEvent: event => events.push(event),
    });
    watcher.start();
    tree.removeRoot();
    await eventually(() => events.some(e => e.type === 'root-removed'));
    expect(events.map(short)).toEqual([
      'container-removed cpu 1111/c1',
      'pod-removed cpu 1111',
      'root-removed cpu -',
    ]);
    expect(watcher.watchCount).toBe(1); // only the parent's
    tree.mkdir('');
    tree.mkdir('burstable');
    await eventually(() => events.some(e => e.type === 'root-added'));
    // The new root is watched: a pod made in it afterwards is seen.
    tree.mkdir(`burstable/pod${uid3}`);
    tree.mkdir(`burstable/pod${uid3}/c3`);
    await eventually(() => events.some(e => e.type === 'container-added'));
    expect(events.slice(3).map(short)).toEqual([
      'root-added cpu -',
      'pod-added cpu 3333',
      'container-added cpu 3333/c3',
    ]);
  });

  it('ignores what is not a pod or container directory', async ({ skip }) => {
    if (unavailable !== undefined) skip();
    tree = new KubepodsTree(['cpu']);
    tree.mkdir('');
    const events: CgroupWatchEvent[] = [];
    watcher = new CgroupWatcher({
      hierarchies: [{ name: 'cpu', root: tree.root('cpu') }],
      driver: 'cgroupfs',
      onEvent: event => events.push(event),
    });
    watcher.start();
    tree.mkdir('not-a-pod');
    tree.mkdir(`pod${uid1}`);
    await eventually(() => events.length === 1);
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(events.map(short)).toEqual(['pod-added cpu 1111']);
  });
});

describe('cgroup directory watcher on cgroup v2 (the hybrid unified mount)', () => {
  it('reports pods and containers created and removed, with systemd names', async ({ skip }) => {
    const v2Unavailable = kernelTreeUnavailable(['unified']);
    if (v2Unavailable !== undefined) {
      console.warn(`skipping cgroup v2 watcher test: ${v2Unavailable}`);
      skip();
    }
    tree = new KubepodsTree(['unified']);
    tree.mkdir('');
    tree.mkdir('kubepods-burstable.slice');
    const events: CgroupWatchEvent[] = [];
    watcher = new CgroupWatcher({
      hierarchies: [{ name: 'unified', root: tree.root('unified') }],
      driver: 'systemd',
      onEvent: event => events.push(event),
    });
    watcher.start();
    const pod = `kubepods-burstable.slice/kubepods-burstable-pod${uid1.replaceAll('-', '_')}.slice`;
    tree.mkdir(pod);
    tree.mkdir(`${pod}/cri-containerd-abc.scope`);
    await eventually(() => events.length === 2);
    tree.rmdir(`${pod}/cri-containerd-abc.scope`);
    await eventually(() => events.length === 3);
    expect(events.map(short)).toEqual([
      'pod-added unified 1111',
      'container-added unified 1111/cri-containerd-abc.scope',
      'container-removed unified 1111/cri-containerd-abc.scope',
    ]);
    expect(events[0]).toMatchObject({ uid: uid1, kubeQoS: 'Burstable' });
  });
});

function unshareWorks(): boolean {
  const probe = spawnSync(
    'unshare',
    ['--user', '--map-root-user', 'sh', '-c', 'echo 5 > /proc/sys/user/max_inotify_watches'],
    {
      stdio: 'ignore',
    },
  );
  return probe.status === 0;
}

describe('inotify watch limit reached (real kernel limit, in a user namespace)', () => {
  it('falls back to rescans, reports it once, finds new containers, and recovers when watches are free', async ({
    skip,
  }) => {
    if (unavailable !== undefined) skip();
    if (!unshareWorks()) {
      console.warn('skipping watch-limit test: unshare --user --map-root-user is not available here');
      skip();
    }
    tree = new KubepodsTree(['cpu']);
    tree.mkdir('');
    tree.mkdir('burstable');
    tree.mkdir(`burstable/pod${uid1}`);
    // Four watches allowed: the parent, the root, burstable and pod 1; the next pod's watch is refused.
    const script = fileURLToPath(new URL('watcher-child.script.ts', import.meta.url));
    child = spawn(
      'unshare',
      ['--user', '--map-root-user', process.execPath, script, tree.root('cpu'), '4', '100'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const events: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', line =>
      events.push(JSON.parse(line) as Record<string, unknown>),
    );
    await eventually(() => events.some(e => e.type === 'started'));
    expect(events[0]).toEqual({ type: 'started', watches: 4 });
    tree.mkdir(`burstable/pod${uid2}`);
    await eventually(() => events.some(e => e.type === 'pod-added'), 5_000);
    // Later than any echo of the pod's own creation: only a rescan can find this container now.
    await new Promise(resolve => setTimeout(resolve, 50));
    tree.mkdir(`burstable/pod${uid2}/c2`);
    await eventually(() => events.some(e => e.type === 'container-added'), 5_000);
    const limit = events.find(e => e.type === 'watch-limit');
    expect(limit).toMatchObject({ hierarchy: 'cpu', rescanMs: 100 });
    expect(String(limit?.error)).toMatch(/ENOSPC/);
    // The pod directory was seen through inotify; its container, which had no watch, by a rescan.
    expect(events.find(e => e.type === 'pod-added')).toMatchObject({ uid: uid2, source: 'inotify' });
    expect(events.find(e => e.type === 'container-added')).toMatchObject({
      container: 'c2',
      source: 'rescan',
    });
    child.stdin!.write('raise\n');
    await eventually(() => events.some(e => e.type === 'watch-restored'), 5_000);
    expect(events.filter(e => e.type === 'watch-limit')).toHaveLength(1);
    // Watched again: a container made now comes through inotify.
    tree.mkdir(`burstable/pod${uid2}/c3`);
    await eventually(() => events.some(e => e.type === 'container-added' && e.container === 'c3'), 5_000);
    expect(events.find(e => e.container === 'c3')).toMatchObject({ source: 'inotify' });
    child.stdin!.write('exit\n');
    expect(events.some(e => e.type === 'error')).toBe(false);
  });
});
