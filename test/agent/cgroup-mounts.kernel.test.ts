// Real cgroup v1 kernel: the agent works with only the kubepods subtree of each hierarchy it writes mounted, as
// the chart mounts them (agent.cgroupMounts: kubepods; docs/decisions/0147), and needs nothing else of
// /sys/fs/cgroup. A private mount namespace (unshare -m) holds a bare cgroup root with the four controllers'
// nodeqos-test-* trees bind-mounted at <root>/<controller>/kubepods; the agent, run there, discovers the layout
// from its own /proc/self/mountinfo and applies a plan, and the values land in the real cgroups. The trees are
// removed in afterAll even when a test fails.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentControllers, cgroupV1Root, removeDir } from '../support/kubepods.ts';
import { plan, planPod, uids } from './helpers/plans.ts';

const testRoot = `nodeqos-test-mounts-${randomBytes(4).toString('hex')}`;
const podDir = (controller: string): string => join(cgroupV1Root, controller, testRoot, `pod${uids.lse}`);

async function usable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root';
  try {
    for (const c of agentControllers) await access(join(cgroupV1Root, c), constants.W_OK);
  } catch {
    return 'cgroup v1 hierarchies cpu, cpuset, memory, blkio are not writable here';
  }
  if (spawnSync('unshare', ['-m', 'true']).status !== 0) return 'unshare -m is not allowed here';
  return undefined;
}

const skipReason = await usable();
if (skipReason !== undefined) console.log(`cgroup mount checks skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(
  'agent with only the kubepods subtrees mounted (real kernel)',
  () => {
    let scratch = '';

    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'nodeqos-test-mounts-'));
      for (const controller of agentControllers) {
        for (const dir of [join(cgroupV1Root, controller, testRoot), podDir(controller)]) {
          await mkdir(dir);
          // cpuset v1 children start empty; kubelet fills them from the parent.
          if (controller === 'cpuset') {
            await writeFile(join(dir, 'cpuset.cpus'), '0-1');
            await writeFile(join(dir, 'cpuset.mems'), '0');
          }
        }
      }
    });

    afterAll(async () => {
      for (const controller of agentControllers) await removeDir(join(cgroupV1Root, controller, testRoot));
      await rm(scratch, { recursive: true, force: true });
    });

    it('discovers v1 from the subtree mounts, applies the plan into the real cgroups, and sees no other hierarchy', async () => {
      const root = join(scratch, 'cg');
      const stateDir = join(scratch, 'state');
      await mkdir(stateDir);
      const mounts = agentControllers.map(c => {
        const target = join(root, c, 'kubepods');
        return `mkdir -p ${target} && mount --bind ${join(cgroupV1Root, c, testRoot)} ${target}`;
      });
      const p = plan('mount-node', [
        planPod({
          uid: uids.lse,
          name: 'lse',
          qosClass: 'LSE',
          kubeQoS: 'Guaranteed',
          cpu: { shares: 777, cpuset: '1', pinned: 'exclusive' },
          memory: { maxBytes: 64 * 1024 * 1024 },
        }),
      ]);
      const script = join(import.meta.dirname, 'helpers', 'apply-once.ts');
      const command = [
        ...mounts,
        // What the agent's container would see of the host cgroup tree: these four mounts and nothing else.
        `ls ${root} | tr '\\n' ' ' 1>&2`,
        `exec "$0" ${script} ${root} ${stateDir} "$1"`,
      ].join(' && ');
      const child = spawnSync(
        'unshare',
        ['-m', '--propagation', 'private', 'sh', '-c', command, process.execPath, JSON.stringify(p)],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(child.status, child.stderr).toBe(0);
      expect(child.stderr.trim().split(' ').sort()).toEqual([...agentControllers].sort());
      const { mode, report } = JSON.parse(child.stdout) as {
        mode: { hierarchy: string; driver: string; v1Mounts: Record<string, string> };
        report: { status: string };
      };
      expect(mode).toMatchObject({
        hierarchy: 'v1',
        driver: 'cgroupfs',
        v1Mounts: { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'blkio' },
      });
      expect(report.status).toBe('applied');
      const read = async (controller: string, file: string): Promise<string> =>
        (await readFile(join(podDir(controller), file), 'utf8')).trim();
      expect(await read('cpu', 'cpu.shares')).toBe('777');
      expect(await read('cpuset', 'cpuset.cpus')).toBe('1');
      expect(await read('memory', 'memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
    });
  },
);
