// kubelet's pod cgroup names for both drivers and both versions, and refusal of anything that could escape a root.
import { describe, expect, it } from 'vitest';
import { CgroupLayout } from '../../../src/agent/cgroup/layout.ts';
import { PathRefusedError, resolveUnder, splitRelativeDir } from '../../../src/agent/cgroup/safe-path.ts';
import { MemoryFs } from '../helpers/memory-fs.ts';

const uid = '0123abcd-4567-89ef-0123-456789abcdef';

describe('pod cgroup paths as kubelet names them', () => {
  const cgroupfs = new CgroupLayout({ cgroupRoot: '/sys/fs/cgroup', version: 'v1', driver: 'cgroupfs' });
  const systemd = new CgroupLayout({ cgroupRoot: '/sys/fs/cgroup', version: 'v2', driver: 'systemd' });

  it('cgroupfs, v1: <root>/<controller>/kubepods[/burstable|/besteffort]/pod<uid>', () => {
    expect(cgroupfs.podDir('cpu', uid, 'Guaranteed')).toBe(`/sys/fs/cgroup/cpu/kubepods/pod${uid}`);
    expect(cgroupfs.podDir('memory', uid, 'Burstable')).toBe(
      `/sys/fs/cgroup/memory/kubepods/burstable/pod${uid}`,
    );
    expect(cgroupfs.podDir('cpuset', uid, 'BestEffort')).toBe(
      `/sys/fs/cgroup/cpuset/kubepods/besteffort/pod${uid}`,
    );
    expect(cgroupfs.qosDir('cpu', 'BestEffort')).toBe('/sys/fs/cgroup/cpu/kubepods/besteffort');
  });

  it("systemd, v2: <root>/kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid with '_'>.slice", () => {
    const u = uid.replaceAll('-', '_');
    expect(systemd.podDir('cpu', uid, 'Guaranteed')).toBe(
      `/sys/fs/cgroup/kubepods.slice/kubepods-pod${u}.slice`,
    );
    expect(systemd.podDir('memory', uid, 'Burstable')).toBe(
      `/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${u}.slice`,
    );
    expect(systemd.podDir('blkio', uid, 'BestEffort')).toBe(
      `/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${u}.slice`,
    );
  });

  it('systemd on v1 and cgroupfs on v2, a custom kubepods dir and combined v1 mounts', () => {
    const v1Systemd = new CgroupLayout({
      cgroupRoot: '/cg',
      version: 'v1',
      driver: 'systemd',
      v1Mounts: { cpu: 'cpu,cpuacct', memory: 'memory' },
    });
    expect(v1Systemd.podDir('cpu', uid, 'Guaranteed')).toBe(
      `/cg/cpu,cpuacct/kubepods.slice/kubepods-pod${uid.replaceAll('-', '_')}.slice`,
    );
    expect(v1Systemd.hasController('cpuset')).toBe(false);
    expect(() => v1Systemd.podDir('cpuset', uid, 'Guaranteed')).toThrow(/not mounted/);
    const v2Cgroupfs = new CgroupLayout({
      cgroupRoot: '/cg',
      version: 'v2',
      driver: 'cgroupfs',
      kubepodsDir: 'nodeqos-test-1/kubepods',
    });
    expect(v2Cgroupfs.podDir('cpu', uid, 'Burstable')).toBe(
      `/cg/nodeqos-test-1/kubepods/burstable/pod${uid}`,
    );
  });
});

describe('path escape refusal', () => {
  const layout = new CgroupLayout({ cgroupRoot: '/sys/fs/cgroup', version: 'v2', driver: 'cgroupfs' });
  const podDir = layout.podDir('cpu', uid, 'Burstable');

  it.each([
    '../etc',
    `${uid}/..`,
    `${uid.slice(0, -1)}\0`,
    '../../../../etc/passwd',
    '',
    `${uid}-extra`,
    uid.toUpperCase().replace('A', '/'),
  ])('refuses pod uid %j', bad => {
    expect(() => layout.podDir('cpu', bad, 'Burstable')).toThrow(PathRefusedError);
  });

  it.each(['..', '.', '../other-pod', 'a/b', 'nul\0byte', '.hidden', '', 'x'.repeat(256), 'a\\b'])(
    'refuses container name %j',
    bad => {
      expect(() => layout.containerDir(podDir, bad)).toThrow(PathRefusedError);
    },
  );

  it('accepts any plain container name a runtime may use', () => {
    expect(layout.containerDir(podDir, 'cri-containerd-0f3a.scope')).toBe(
      `${podDir}/cri-containerd-0f3a.scope`,
    );
    expect(layout.containerDir(podDir, 'docker-1234')).toBe(`${podDir}/docker-1234`);
  });

  it.each(['/abs', '../up', 'a/../b', 'kubepods/', 'x/\0'])('refuses kubepods dir %j', bad => {
    expect(
      () =>
        new CgroupLayout({
          cgroupRoot: '/sys/fs/cgroup',
          version: 'v2',
          driver: 'cgroupfs',
          kubepodsDir: bad,
        }),
    ).toThrow(PathRefusedError);
  });

  it('refuses a relative or NUL cgroup root and file names that are not plain', () => {
    expect(
      () => new CgroupLayout({ cgroupRoot: 'sys/fs/cgroup', version: 'v2', driver: 'cgroupfs' }),
    ).toThrow(PathRefusedError);
    expect(() => layout.file(podDir, '../cpu.max')).toThrow(PathRefusedError);
    expect(() => layout.file(podDir, 'cpu.max/x')).toThrow(PathRefusedError);
  });

  it('resolveUnder refuses results outside the root even for odd but plain-looking parts', () => {
    expect(resolveUnder('/root', 'a', 'b')).toBe('/root/a/b');
    expect(() => resolveUnder('/root', '..', 'rootkit')).toThrow(/escapes \/root/);
    expect(() => resolveUnder('/root', '/etc')).toThrow(/escapes/);
    expect(() => resolveUnder('/root', 'a\0')).toThrow(/NUL/);
    expect(() => splitRelativeDir('a//b', 'dir')).toThrow(PathRefusedError);
  });

  it('lists only sub-directories as containers and reports refused names without entering them', async () => {
    const fs = new MemoryFs();
    fs.cgroup(podDir, { 'cpu.max': 'max 100000' });
    fs.cgroup(`${podDir}/abc`, {});
    fs.cgroup(`${podDir}/.hidden`, {});
    expect(await layout.listContainers(fs, podDir)).toEqual({ names: ['abc'], refused: ['.hidden'] });
  });

  it('reads a pod UID back from its directory name, for both drivers and every QoS class', () => {
    const uid = '6f1c2b9e-1d2a-4c3b-9e8f-0a1b2c3d4e01';
    const cgroupfs = new CgroupLayout({ cgroupRoot: '/r', version: 'v1', driver: 'cgroupfs' });
    const systemd = new CgroupLayout({ cgroupRoot: '/r', version: 'v2', driver: 'systemd' });
    for (const kubeQoS of ['Guaranteed', 'Burstable', 'BestEffort'] as const) {
      for (const each of [cgroupfs, systemd]) {
        const name = each.podSegments(uid, kubeQoS).at(-1) ?? '';
        expect(each.podUidOf(name, kubeQoS)).toBe(uid);
      }
    }
    expect(cgroupfs.podUidOf('burstable', 'Guaranteed')).toBeUndefined();
    expect(cgroupfs.podUidOf('pod../../etc', 'Guaranteed')).toBeUndefined();
    expect(systemd.podUidOf('kubepods-burstable.slice', 'Guaranteed')).toBeUndefined();
    expect(systemd.podUidOf(`kubepods-pod${uid.replaceAll('-', '_')}.slice`, 'Burstable')).toBeUndefined();
  });
});
