// oom_score_adj for every pid of every container: written when different, originals recorded first, exited pids
// tolerated, out-of-range values refused, and the real /proc of a child process.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupLayout } from '../../../src/agent/cgroup/layout.ts';
import { ExecutorMetrics } from '../../../src/agent/executor/metrics.ts';
import { RewriteTracker } from '../../../src/agent/executor/rewrite-tracker.ts';
import { CgroupSession } from '../../../src/agent/executor/session.ts';
import { nodeFs, type AgentFs } from '../../../src/agent/fs.ts';
import { applyOomScoreAdj } from '../../../src/agent/executor/oom-score.ts';
import { OriginalValues } from '../../../src/agent/restore/original-values.ts';
import { MemoryFs } from '../helpers/memory-fs.ts';
import { uids } from '../helpers/plans.ts';

const pod = { uid: uids.ls, namespace: 'default', name: 'ls', kubeQoS: 'Burstable' as const };
let stateDir = '';
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-oom-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

let refusals: { oomLowerRefusedAt?: number } = {};
beforeEach(() => {
  refusals = {};
});

async function session(
  fs: AgentFs,
  cgroupRoot = '/cg',
): Promise<{ session: CgroupSession; store: OriginalValues }> {
  const layout = new CgroupLayout({ cgroupRoot, version: 'v2', driver: 'cgroupfs' });
  const store = await OriginalValues.load(stateDir, pino({ enabled: false }));
  const deps = {
    fs,
    layout,
    store,
    metrics: new ExecutorMetrics(new Registry()),
    logger: pino({ enabled: false }),
    rewrite: new RewriteTracker(60_000, Date.now),
    refusals,
  };
  const target = {
    identity: pod,
    recordOriginals: true,
    dirOf: () => layout.podDir('cpu', pod.uid, pod.kubeQoS),
    parentDirOf: () => layout.qosDir('cpu', pod.kubeQoS),
  };
  return { session: new CgroupSession(deps, target), store };
}

const podDir = `/cg/kubepods/burstable/pod${pod.uid}`;

describe('oom_score_adj', () => {
  it('writes every differing pid, records the first value per container, and tolerates exited pids', async () => {
    const fs = new MemoryFs();
    fs.cgroup(podDir, { 'cgroup.procs': '' });
    fs.cgroup(`${podDir}/c1`, { 'cgroup.procs': '10\n11\n12\n' });
    fs.cgroup(`${podDir}/c2`, { 'cgroup.procs': '20\n' });
    fs.cgroup('/proc/10', { oom_score_adj: '0' });
    fs.cgroup('/proc/11', { oom_score_adj: '500' });
    fs.cgroup('/proc/20', { oom_score_adj: '-3' });
    // pid 12 has exited before it is read; pid 20 exits between read and write.
    fs.injections.push(path => (path === '/proc/20/oom_score_adj' ? 'ESRCH' : undefined));
    const { session: s, store } = await session(fs);
    await applyOomScoreAdj(s, { procRoot: '/proc', valueFor: () => 500, recordOriginals: true });
    expect(s.report.oom).toEqual({ written: 1, unchanged: 1, vanishedPids: 2 });
    expect(s.report.failed).toEqual([]);
    expect(fs.get('/proc/10/oom_score_adj')).toBe('500');
    expect(store.get(pod.uid, 'c1', 'oom_score_adj')).toBe(0);
    expect(store.get(pod.uid, 'c2', 'oom_score_adj')).toBe(-3);
  });

  it('records EACCES per container and refuses values outside -1000..1000', async () => {
    const fs = new MemoryFs();
    fs.cgroup(`${podDir}/c1`, { 'cgroup.procs': '10\n' });
    fs.cgroup(`${podDir}/c2`, { 'cgroup.procs': '20\n' });
    fs.cgroup('/proc/10', { oom_score_adj: '0' });
    fs.cgroup('/proc/20', { oom_score_adj: '0' });
    fs.injections.push(path => (path === '/proc/10/oom_score_adj' ? 'EACCES' : undefined));
    const { session: s } = await session(fs);
    await applyOomScoreAdj(s, {
      procRoot: '/proc',
      valueFor: c => (c === 'c1' ? -997 : 1001),
      recordOriginals: true,
    });
    expect(s.report.failed.map(f => [f.container, f.errno])).toEqual([
      ['c2', 'ERANGE'],
      ['c1', 'EACCES'],
    ]);
    expect(fs.get('/proc/20/oom_score_adj')).toBe('0');
  });

  it('after one EACCES on lowering (no CAP_SYS_RESOURCE), reports it as unsupported and never tries again; raising still works', async () => {
    const fs = new MemoryFs();
    fs.cgroup(`${podDir}/c1`, { 'cgroup.procs': '10\n' });
    fs.cgroup('/proc/10', { oom_score_adj: '0' });
    fs.injections.push((path, data) =>
      path === '/proc/10/oom_score_adj' && Number(data) < 0 ? 'EACCES' : undefined,
    );
    const first = (await session(fs)).session;
    await applyOomScoreAdj(first, { procRoot: '/proc', valueFor: () => -500, recordOriginals: false });
    expect(first.report.failed.map(f => f.errno)).toEqual(['EACCES']);
    const attempts = fs.writes.length;

    const second = (await session(fs)).session;
    await applyOomScoreAdj(second, { procRoot: '/proc', valueFor: () => -500, recordOriginals: false });
    expect(second.report.failed).toEqual([]);
    expect(second.report.unsupported).toEqual([
      { knob: 'oom_score_adj', reason: expect.stringMatching(/needs CAP_SYS_RESOURCE/) as unknown },
    ]);
    expect(fs.writes.length).toBe(attempts);

    const raising = (await session(fs)).session;
    await applyOomScoreAdj(raising, { procRoot: '/proc', valueFor: () => 900, recordOriginals: false });
    expect(fs.get('/proc/10/oom_score_adj')).toBe('900');
    // Lowering to a value above the refused one is still tried (the kernel's minimum is unknown).
    const partly = (await session(fs)).session;
    await applyOomScoreAdj(partly, { procRoot: '/proc', valueFor: () => 300, recordOriginals: false });
    expect(fs.get('/proc/10/oom_score_adj')).toBe('300');
  });

  it('refuses pids that are not numbers instead of building paths from them', async () => {
    const fs = new MemoryFs();
    fs.cgroup(`${podDir}/c1`, { 'cgroup.procs': '../../etc\n10\n' });
    fs.cgroup('/proc/10', { oom_score_adj: '0' });
    const { session: s } = await session(fs);
    await applyOomScoreAdj(s, { procRoot: '/proc', valueFor: () => 7, recordOriginals: false });
    expect(s.report.failed).toEqual([expect.objectContaining({ errno: 'EPARSE', container: 'c1' })]);
    expect(fs.get('/proc/10/oom_score_adj')).toBe('7');
  });

  it('writes the real /proc/<pid>/oom_score_adj of a live process', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const fs = new MemoryFs();
      fs.cgroup(`${podDir}/c1`, { 'cgroup.procs': `${child.pid}\n` });
      const real: AgentFs = {
        readFile: path => (path.startsWith('/proc/') ? nodeFs.readFile(path) : fs.readFile(path)),
        writeFile: (path, data) =>
          path.startsWith('/proc/') ? nodeFs.writeFile(path, data) : fs.writeFile(path, data),
        listDirs: path => fs.listDirs(path),
        listNames: path => fs.listNames(path),
        exists: path => fs.exists(path),
      };
      const { session: s } = await session(real);
      await applyOomScoreAdj(s, { procRoot: '/proc', valueFor: () => 800, recordOriginals: false });
      expect(s.report.failed).toEqual([]);
      expect((await readFile(`/proc/${child.pid}/oom_score_adj`, 'utf8')).trim()).toBe('800');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
