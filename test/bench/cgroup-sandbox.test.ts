// Real cgroup v1 kernel: the sandbox creates only nodeqos-test-* trees and removes them completely.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CgroupSandbox, cgroupV1Unavailable, sandboxControllers } from '../../bench/lib/cgroup-sandbox.ts';

const unavailable = await cgroupV1Unavailable();
if (unavailable !== undefined) console.warn(`skipping cgroup sandbox tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('CgroupSandbox on cgroup v1', () => {
  it('builds kubelet-like pod and container cgroups under nodeqos-test-* and removes all of them', async () => {
    const pod = {
      uid: '11111111-2222-4333-8444-555555555555',
      kubeQoS: 'Burstable' as const,
      containers: ['c1'],
    };
    const sandbox = await CgroupSandbox.create([pod]);
    try {
      expect(sandbox.name).toMatch(/^nodeqos-test-[0-9a-f]{8}$/);
      const container = sandbox.dir('cpuset', pod, 'c1');
      expect(container).toBe(`/sys/fs/cgroup/cpuset/${sandbox.name}/burstable/pod${pod.uid}/c1`);
      expect((await readFile(join(container, 'cpuset.mems'), 'utf8')).trim()).not.toBe('');
      for (const controller of sandboxControllers)
        expect(existsSync(sandbox.dir(controller, pod, 'c1'))).toBe(true);
    } finally {
      sandbox.removeSync();
    }
    for (const controller of sandboxControllers) expect(existsSync(sandbox.dir(controller))).toBe(false);
    expect(() => {
      sandbox.removeSync();
    }).not.toThrow();
  });
});
