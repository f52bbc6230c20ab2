import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentFs } from '../../../src/agent/fs.ts';
import {
  ensureNetClsMounted,
  findNetClsMount,
  netClsUnsupportedOnV2,
  parseClassidFile,
  writeNetClassid,
} from '../../../src/agent/net/net-cls.ts';
import { execRunner, type CommandRunner } from '../../../src/agent/net/runner.ts';

/** Behaves like the kernel's net_cls.classid: takes hex or decimal, reads back decimal. */
const kernelLikeFs: Pick<AgentFs, 'readFile' | 'writeFile'> = {
  readFile: async path => readFile(path, 'utf8'),
  writeFile: async (path, data) => {
    await writeFile(path, `${Number(data)}\n`);
  },
};

describe('net_cls.classid', () => {
  let root = '';
  let pod = '';
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'nodeqos-test-netcls-'));
    pod = join(root, 'kubepods', 'besteffort', 'pod1234');
    await mkdir(pod, { recursive: true });
    await writeFile(join(pod, 'net_cls.classid'), '0\n');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes hex, accepts the decimal read-back, and skips an equal value', async () => {
    const first = await writeNetClassid({
      version: 1,
      root,
      dir: pod,
      classid: '0x00010004',
      fs: kernelLikeFs,
    });
    expect(first).toEqual({ status: 'written', previous: 0 });
    expect(await readFile(join(pod, 'net_cls.classid'), 'utf8')).toBe('65540\n');
    expect(
      await writeNetClassid({ version: 1, root, dir: pod, classid: '0x00010004', fs: kernelLikeFs }),
    ).toEqual({ status: 'unchanged' });
    expect(
      await writeNetClassid({ version: 1, root, dir: pod, classid: '0x0001FFFF', fs: kernelLikeFs }),
    ).toEqual({
      status: 'written',
      previous: 65540,
    });
  });

  it('fails when the kernel does not hold the value it was given', async () => {
    const stubborn: Pick<AgentFs, 'readFile' | 'writeFile'> = {
      readFile: () => Promise.resolve('7\n'),
      writeFile: () => Promise.resolve(),
    };
    await expect(
      writeNetClassid({ version: 1, root, dir: pod, classid: '0x00010004', fs: stubborn }),
    ).rejects.toThrow(/net_cls.classid: wrote 0x00010004 \(65540\) but the kernel holds 7/);
  });

  it('refuses directories outside the root, the root itself, symlink escapes and relative paths', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'nodeqos-test-outside-'));
    try {
      await symlink(outside, join(root, 'escape'));
      const request = { version: 1 as const, root, classid: '0x00010004', fs: kernelLikeFs };
      await expect(writeNetClassid({ ...request, dir: outside })).rejects.toThrow(
        /is not below the net_cls root/,
      );
      await expect(writeNetClassid({ ...request, dir: join(root, 'kubepods', '..', '..') })).rejects.toThrow(
        /is not below/,
      );
      await expect(writeNetClassid({ ...request, dir: root })).rejects.toThrow(/is not below/);
      await expect(writeNetClassid({ ...request, dir: join(root, 'escape') })).rejects.toThrow(
        /is not below/,
      );
      await expect(writeNetClassid({ ...request, dir: 'kubepods' })).rejects.toThrow(/must be absolute/);
      await expect(writeNetClassid({ ...request, dir: pod, classid: '65540' })).rejects.toThrow(
        /not 0xAAAABBBB/,
      );
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('reports cgroup v2 as unsupported without touching anything', async () => {
    const untouchable: Pick<AgentFs, 'readFile' | 'writeFile'> = {
      readFile: () => Promise.reject(new Error('must not read')),
      writeFile: () => Promise.reject(new Error('must not write')),
    };
    const result = await writeNetClassid({
      version: 2,
      root: '/sys/fs/cgroup',
      dir: '/sys/fs/cgroup/kubepods',
      classid: '0x00010004',
      fs: untouchable,
    });
    expect(result).toEqual({ status: 'unsupported', message: netClsUnsupportedOnV2 });
    expect(result.message).toMatch(/^unsupported on cgroup v2: .*iptables -m cgroup.*BPF/);
  });

  it('parses the decimal and hex forms only', () => {
    expect(parseClassidFile('1048577\n', 'f')).toBe(0x00100001);
    expect(parseClassidFile('0x10004', 'f')).toBe(65540);
    expect(() => parseClassidFile('1:4', 'f')).toThrow(/f: not a classid/);
  });
});

const mountinfo = [
  '25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '33 25 0:28 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu',
  '34 25 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
].join('\n');
const withNetCls = `${mountinfo}\n40 25 0:35 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,net_cls,net_prio\n`;

describe('net_cls mount', () => {
  it('finds a hierarchy carrying net_cls, co-mounted or alone, and decodes escaped paths', () => {
    expect(findNetClsMount(mountinfo)).toBeUndefined();
    expect(findNetClsMount(withNetCls)).toBe('/sys/fs/cgroup/net_cls,net_prio');
    expect(findNetClsMount('1 2 0:1 / /mnt/net\\040cls rw - cgroup cgroup rw,net_cls\n')).toBe(
      '/mnt/net cls',
    );
  });

  it('mounts net_cls at <cgroupRoot>/net_cls when no hierarchy has it', async () => {
    const runs: string[][] = [];
    const made: string[] = [];
    let mounted = false;
    const run: CommandRunner = (file, args) => {
      runs.push([file, ...args]);
      mounted = true;
      return Promise.resolve({ stdout: '', stderr: '' });
    };
    const result = await ensureNetClsMounted({
      cgroupRoot: '/fake/cgroup',
      readMountinfo: () =>
        Promise.resolve(
          mounted
            ? `${mountinfo}\n41 25 0:36 / /fake/cgroup/net_cls rw - cgroup cgroup rw,net_cls\n`
            : mountinfo,
        ),
      run,
      mkdir: path => {
        made.push(path);
        return Promise.resolve();
      },
    });
    expect(made).toEqual(['/fake/cgroup/net_cls']);
    expect(runs).toEqual([['mount', '-t', 'cgroup', '-o', 'net_cls', 'net_cls', '/fake/cgroup/net_cls']]);
    expect(result).toEqual({ mountPoint: '/fake/cgroup/net_cls', mounted: true });
  });

  it('leaves an existing hierarchy alone', async () => {
    const run: CommandRunner = () => Promise.reject(new Error('must not mount'));
    const result = await ensureNetClsMounted({
      cgroupRoot: '/fake/cgroup',
      readMountinfo: () => Promise.resolve(withNetCls),
      run,
    });
    expect(result).toEqual({ mountPoint: '/sys/fs/cgroup/net_cls,net_prio', mounted: false });
  });

  it('explains a failed mount and a mount that did not take', async () => {
    const options = {
      cgroupRoot: '/fake/cgroup',
      readMountinfo: () => Promise.resolve(mountinfo),
      mkdir: () => Promise.resolve(),
    };
    await expect(
      ensureNetClsMounted({ ...options, run: () => Promise.reject(new Error('mount: permission denied')) }),
    ).rejects.toThrow(
      /^mounting the net_cls hierarchy at \/fake\/cgroup\/net_cls: mount: permission denied$/,
    );
    await expect(
      ensureNetClsMounted({ ...options, run: () => Promise.resolve({ stdout: '', stderr: '' }) }),
    ).rejects.toThrow(/does not show it/);
  });
});

async function netClsHierarchyId(): Promise<string | undefined> {
  const line = (await readFile('/proc/cgroups', 'utf8')).split('\n').find(l => l.startsWith('net_cls\t'));
  return line?.split('\t')[1];
}

describe('net_cls on the real kernel (private mount namespace)', () => {
  it('mounts net_cls, writes hex and reads the kernel decimal back as the same classid', async ctx => {
    const script = join(import.meta.dirname, 'net-cls-kernel.script.ts');
    const hierarchyBefore = await netClsHierarchyId();
    let stdout: string;
    try {
      ({ stdout } = await execRunner('unshare', [
        '--mount',
        '--propagation',
        'private',
        process.execPath,
        script,
      ]));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/unshare failed|Operation not permitted|Permission denied/.test(message))
        ctx.skip(`needs root for unshare and mount: ${message}`);
      throw error;
    }
    expect(JSON.parse(stdout)).toMatchObject({
      mount: {
        mounted: true,
        mountPoint: expect.stringMatching(/\/nodeqos-test-netcls-[^/]+\/net_cls$/) as unknown,
      },
      first: { status: 'written', previous: 0 },
      raw: '65540\n',
      second: { status: 'unchanged' },
    });
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toMatch(/nodeqos-test-netcls/);
    // The private hierarchy is gone again (hierarchy 0: net_cls not mounted anywhere, as before the test).
    await expect.poll(netClsHierarchyId, { timeout: 3000 }).toBe(hierarchyBefore);
  });
});
