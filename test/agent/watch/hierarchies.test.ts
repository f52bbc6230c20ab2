// Which directories the watcher is given for a layout, and which names it takes for tiers, pods and containers.
import { describe, expect, it } from 'vitest';
import { CgroupLayout } from '../../../src/agent/cgroup/layout.ts';
import { watchedHierarchies } from '../../../src/agent/watch/hierarchies.ts';
import { isContainerName, podUidOf, tierOf } from '../../../src/agent/cgroup/kubepods-names.ts';

const uid = '0a1b2c3d-0000-4000-8000-00000000abcd';

describe('watchedHierarchies', () => {
  it('watches each mounted v1 controller, or the unified tree', () => {
    const v1 = new CgroupLayout({
      cgroupRoot: '/sys/fs/cgroup',
      version: 'v1',
      driver: 'cgroupfs',
      v1Mounts: { cpu: 'cpu,cpuacct', memory: 'memory' },
    });
    expect(watchedHierarchies(v1)).toEqual([
      { name: 'cpu', root: '/sys/fs/cgroup/cpu,cpuacct/kubepods' },
      { name: 'memory', root: '/sys/fs/cgroup/memory/kubepods' },
    ]);
    const v2 = new CgroupLayout({ cgroupRoot: '/sys/fs/cgroup', version: 'v2', driver: 'systemd' });
    expect(watchedHierarchies(v2)).toEqual([{ name: 'unified', root: '/sys/fs/cgroup/kubepods.slice' }]);
  });
});

describe('kubepods names', () => {
  it('knows both drivers tier and pod names', () => {
    expect(tierOf('cgroupfs', 'burstable')).toBe('burstable');
    expect(tierOf('systemd', 'kubepods-besteffort.slice')).toBe('besteffort');
    expect(tierOf('systemd', 'besteffort')).toBeUndefined();
    expect(podUidOf('cgroupfs', 'burstable', `pod${uid}`)).toBe(uid);
    expect(podUidOf('systemd', undefined, `kubepods-pod${uid.replaceAll('-', '_')}.slice`)).toBe(uid);
    expect(podUidOf('systemd', 'burstable', `kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice`)).toBe(
      uid,
    );
    expect(
      podUidOf('systemd', 'burstable', `kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice`),
    ).toBeUndefined();
    expect(podUidOf('cgroupfs', undefined, 'podnot-a-uid')).toBeUndefined();
    expect(isContainerName('cri-containerd-abc.scope')).toBe(true);
    expect(isContainerName('.hidden')).toBe(false);
  });
});
