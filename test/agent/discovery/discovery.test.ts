// Node discovery from private /proc and /sys trees: cgroup version and driver, CPU topology, block devices and
// the default-route interface.
import { describe, expect, it } from 'vitest';
import { detectCgroupMode, layoutFor } from '../../../src/agent/discovery/cgroup-mode.ts';
import { listBlockDevices, resolveDevice } from '../../../src/agent/discovery/block-devices.ts';
import {
  defaultRouteInterface,
  parseDefaultRouteInterface,
} from '../../../src/agent/discovery/default-route.ts';
import { cgroupMountsUnder, parseMountInfo } from '../../../src/agent/discovery/mountinfo.ts';
import { discoverTopology } from '../../../src/agent/discovery/topology.ts';
import { MemoryFs } from '../helpers/memory-fs.ts';
import { v1Mountinfo } from '../helpers/trees.ts';

const v2Mountinfo = '29 23 0:26 / /cg rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
const v1Only = v1Mountinfo
  .split('\n')
  .filter(line => !line.includes('cgroup2'))
  .join('\n');
const combined = [
  '31 30 0:28 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  '32 30 0:29 / /cg/memory rw - cgroup cgroup rw,memory',
  '33 30 0:30 / /cg/with\\040space rw - cgroup cgroup rw,cpuset',
].join('\n');

describe('cgroup hierarchy from mountinfo', () => {
  it('tells v1, hybrid and v2 apart and finds each controller mount', () => {
    expect(cgroupMountsUnder(parseMountInfo(v1Only), '/cg')).toEqual({
      kind: 'v1',
      v1Mounts: { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'blkio' },
      memoryRecursiveProt: false,
    });
    expect(cgroupMountsUnder(parseMountInfo(v1Mountinfo), '/cg').kind).toBe('hybrid');
    expect(cgroupMountsUnder(parseMountInfo(v2Mountinfo), '/cg')).toEqual({
      kind: 'v2',
      v1Mounts: {},
      memoryRecursiveProt: true,
    });
    expect(cgroupMountsUnder(parseMountInfo(combined), '/cg').v1Mounts).toEqual({
      cpu: 'cpu,cpuacct',
      memory: 'memory',
      cpuset: 'with space',
    });
  });

  it("finds the kubepods subtrees the chart mounts (not whole hierarchies), whatever mountinfo's root field says", () => {
    // What a containerised agent sees for the chart's per-hierarchy hostPath mounts (docs/decisions/0147).
    const v1Subtrees = [
      '41 30 0:28 /../.. /cg/cpu/kubepods.slice rw - cgroup cgroup rw,cpu,cpuacct',
      '42 30 0:29 /kubepods.slice /cg/cpuset/kubepods.slice rw - cgroup cgroup rw,cpuset',
      '43 30 0:30 /kubepods.slice /cg/memory/kubepods.slice rw - cgroup cgroup rw,memory',
      '44 30 0:31 /kubepods.slice /cg/blkio/kubepods.slice rw - cgroup cgroup rw,blkio',
    ].join('\n');
    expect(cgroupMountsUnder(parseMountInfo(v1Subtrees), '/cg')).toEqual({
      kind: 'v1',
      v1Mounts: { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'blkio' },
      memoryRecursiveProt: false,
    });
    const v2Subtree =
      '45 30 0:26 /../../.. /cg/kubepods rw - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
    expect(cgroupMountsUnder(parseMountInfo(v2Subtree), '/cg')).toEqual({
      kind: 'v2',
      v1Mounts: {},
      memoryRecursiveProt: true,
    });
    // A subtree deeper than <root>/<controller>/kubepods, or of another name, is not a hierarchy under the root.
    const elsewhere = [
      '46 30 0:28 / /cg/cpu/x/kubepods rw - cgroup cgroup rw,cpu',
      '47 30 0:26 / /cg/x/y rw - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(() => cgroupMountsUnder(parseMountInfo(elsewhere), '/cg')).toThrow(/no cgroup hierarchy/);
  });

  it('fails clearly when nothing is mounted under the root', () => {
    expect(() => cgroupMountsUnder(parseMountInfo(v2Mountinfo), '/elsewhere')).toThrow(/no cgroup hierarchy/);
  });
});

describe('cgroup driver', () => {
  function node(mountinfo: string, dirs: string[]): MemoryFs {
    const fs = new MemoryFs();
    fs.files.set('/proc/self/mountinfo', mountinfo);
    for (const dir of dirs) fs.mkdir(dir);
    return fs;
  }

  it('is systemd when kubepods.slice exists and cgroupfs when kubepods exists', async () => {
    const systemd = await detectCgroupMode({
      fs: node(v2Mountinfo, ['/cg/kubepods.slice']),
      cgroupRoot: '/cg',
      procRoot: '/proc',
    });
    expect(systemd).toMatchObject({ version: 'v2', driver: 'systemd', kubepodsDir: 'kubepods.slice' });
    const cgroupfs = await detectCgroupMode({
      fs: node(v1Mountinfo, ['/cg/cpu/kubepods']),
      cgroupRoot: '/cg',
      procRoot: '/proc',
    });
    expect(cgroupfs).toMatchObject({
      hierarchy: 'hybrid',
      version: 'v1',
      driver: 'cgroupfs',
      kubepodsDir: 'kubepods',
    });
    expect(layoutFor(cgroupfs).podDir('memory', '0123abcd-4567-89ef-0123-456789abcdef', 'Burstable')).toBe(
      '/cg/memory/kubepods/burstable/pod0123abcd-4567-89ef-0123-456789abcdef',
    );
  });

  it('needs an override when both or neither exist, and honours explicit overrides', async () => {
    await expect(
      detectCgroupMode({ fs: node(v2Mountinfo, []), cgroupRoot: '/cg', procRoot: '/proc' }),
    ).rejects.toThrow(/neither.*--cgroup-driver/);
    await expect(
      detectCgroupMode({
        fs: node(v2Mountinfo, ['/cg/kubepods', '/cg/kubepods.slice']),
        cgroupRoot: '/cg',
        procRoot: '/proc',
      }),
    ).rejects.toThrow(/both/);
    const forced = await detectCgroupMode({
      fs: node(v2Mountinfo, []),
      cgroupRoot: '/cg',
      procRoot: '/proc',
      driver: 'systemd',
      hierarchy: 'v1',
    });
    expect(forced).toMatchObject({
      version: 'v1',
      driver: 'systemd',
      kubepodsDir: 'kubepods.slice',
      v1Mounts: { cpu: 'cpu' },
    });
    const named = await detectCgroupMode({
      fs: node(v1Mountinfo, []),
      cgroupRoot: '/cg',
      procRoot: '/proc',
      kubepodsDir: 'nodeqos-test-1',
    });
    expect(named).toMatchObject({ driver: 'cgroupfs', kubepodsDir: 'nodeqos-test-1' });
  });

  it('without a readable mountinfo: the flags say the layout, else a clear error naming the file and the flag', async () => {
    const noMountinfo = new MemoryFs();
    noMountinfo.mkdir('/cg/kubepods.slice');
    const v2 = await detectCgroupMode({
      fs: noMountinfo,
      cgroupRoot: '/cg',
      procRoot: '/p',
      hierarchy: 'v2',
      driver: 'systemd',
    });
    expect(v2).toMatchObject({ version: 'v2', driver: 'systemd', kubepodsDir: 'kubepods.slice' });
    const v1 = await detectCgroupMode({
      fs: noMountinfo,
      cgroupRoot: '/cg',
      procRoot: '/p',
      hierarchy: 'v1',
      driver: 'cgroupfs',
    });
    expect(v1.v1Mounts).toEqual({ cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'blkio' });
    await expect(detectCgroupMode({ fs: noMountinfo, cgroupRoot: '/cg', procRoot: '/p' })).rejects.toThrow(
      'cannot read /p/self/mountinfo (ENOENT) to find the cgroup layout; pass --cgroup-version',
    );
  });
});

describe('CPU topology from sysfs', () => {
  it('reads core, socket and NUMA node of every online CPU', async () => {
    const fs = new MemoryFs();
    const sys = '/sys/devices/system';
    fs.files.set(`${sys}/cpu/online`, '0-3\n');
    const layout = [
      { id: 0, core: 0, socket: 0 },
      { id: 1, core: 1, socket: 0 },
      { id: 2, core: 0, socket: 1 },
      { id: 3, core: 1, socket: 1 },
    ];
    for (const cpu of layout)
      fs.cgroup(`${sys}/cpu/cpu${cpu.id}/topology`, {
        core_id: `${cpu.core}\n`,
        physical_package_id: `${cpu.socket}\n`,
      });
    fs.cgroup(`${sys}/cpu/cpu4/topology`, { core_id: '2', physical_package_id: '1' }); // offline: not listed in online
    fs.cgroup(`${sys}/node/node0`, { cpulist: '0-1\n' });
    fs.cgroup(`${sys}/node/node1`, { cpulist: '2-3\n' });
    expect(await discoverTopology(fs, '/sys')).toEqual({
      cpus: [
        { id: 0, core: 0, socket: 0, numa: 0 },
        { id: 1, core: 1, socket: 0, numa: 0 },
        { id: 2, core: 0, socket: 1, numa: 1 },
        { id: 3, core: 1, socket: 1, numa: 1 },
      ],
    });
  });

  it('copes with no online file, no NUMA directory and an unknown package (-1)', async () => {
    const fs = new MemoryFs();
    fs.cgroup('/sys/devices/system/cpu/cpu0/topology', { core_id: '0', physical_package_id: '-1' });
    fs.cgroup('/sys/devices/system/cpu/cpu1/topology', { core_id: '0', physical_package_id: '-1' });
    fs.cgroup('/sys/devices/system/cpu/cpufreq', {});
    expect(await discoverTopology(fs, '/sys')).toEqual({
      cpus: [
        { id: 0, core: 0, socket: 0, numa: 0 },
        { id: 1, core: 0, socket: 0, numa: 0 },
      ],
    });
  });

  it("reads each CPU's L3 cache id, and drops them all when one CPU has none", async () => {
    const fs = new MemoryFs();
    const cpu = '/sys/devices/system/cpu';
    for (const id of [0, 1, 2])
      fs.cgroup(`${cpu}/cpu${id}/topology`, { core_id: `${id}`, physical_package_id: '0' });
    fs.cgroup(`${cpu}/cpu0/cache/index3`, { id: '0\n' });
    fs.cgroup(`${cpu}/cpu1/cache/index3`, { id: '1\n' });
    expect((await discoverTopology(fs, '/sys')).cpus.map(c => c.l3)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    fs.cgroup(`${cpu}/cpu2/cache/index3`, { id: '1\n' });
    expect((await discoverTopology(fs, '/sys')).cpus.map(c => c.l3)).toEqual([0, 1, 1]);
  });

  it('matches the real sysfs of this machine', async () => {
    const { nodeFs } = await import('../../../src/agent/fs.ts');
    const { readFile } = await import('node:fs/promises');
    const topology = await discoverTopology(nodeFs);
    expect(topology.cpus.length).toBeGreaterThan(0);
    expect(topology.cpus.map(c => c.id)).toEqual([...topology.cpus.keys()]);
    const l3 = await readFile('/sys/devices/system/cpu/cpu0/cache/index3/id', 'utf8').catch(() => undefined);
    expect(topology.cpus[0]?.l3).toBe(l3 === undefined ? undefined : Number(l3.trim()));
  });
});

describe('block devices', () => {
  const fs = new MemoryFs();
  fs.cgroup('/sys/block/sda', { dev: '8:0\n' });
  fs.cgroup('/sys/block/nvme0n1', { dev: '259:0\n' });
  fs.cgroup('/sys/block/loop0', { dev: '7:0\n' });
  fs.cgroup('/sys/block/ram0', { dev: '1:0\n' });
  fs.cgroup('/sys/block/zram0', { dev: '252:0\n' });
  fs.cgroup('/sys/block/dm-0', { dev: '253:0\n' });
  fs.cgroup('/sys/block/dm-0/dm', { name: 'vg-data\n' });

  it("resolves 'all' to every whole disk except loop, ram and zram", async () => {
    const devices = await listBlockDevices(fs, '/sys');
    expect(resolveDevice('all', devices)).toEqual({ ok: true, majMins: ['253:0', '259:0', '8:0'] });
  });

  it('resolves /dev names, device-mapper names and MAJ:MIN', async () => {
    const devices = await listBlockDevices(fs, '/sys');
    expect(resolveDevice('/dev/nvme0n1', devices)).toEqual({ ok: true, majMins: ['259:0'] });
    expect(resolveDevice('/dev/mapper/vg-data', devices)).toEqual({ ok: true, majMins: ['253:0'] });
    expect(resolveDevice('8:16', devices)).toEqual({ ok: true, majMins: ['8:16'] });
    expect(resolveDevice('/dev/sdb', devices)).toMatchObject({ ok: false });
    expect(resolveDevice('/dev/../etc', devices)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('refused') as string,
    });
    expect(resolveDevice('/dev/disk/by-id/x', devices)).toMatchObject({ ok: false });
  });

  it("'all' falls back to the virtual disks when they are all there is", async () => {
    const only = new MemoryFs();
    only.cgroup('/sys/block/loop0', { dev: '7:0' });
    only.cgroup('/sys/block/zram0', { dev: '252:0' });
    expect(resolveDevice('all', await listBlockDevices(only, '/sys'))).toEqual({
      ok: true,
      majMins: ['7:0', '252:0'],
    });
  });
});

describe('default route', () => {
  const route = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth1\t00000000\t010200C0\t0003\t0\t0\t200\t00000000\t0\t0\t0',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'eth2\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');

  it('picks the up default route with the lowest metric', async () => {
    expect(parseDefaultRouteInterface(route)).toBe('eth0');
    const fs = new MemoryFs();
    fs.files.set('/p/net/route', route);
    expect(await defaultRouteInterface(fs, '/p')).toBe('eth0');
    expect(parseDefaultRouteInterface(route.split('\n').slice(0, 1).join('\n'))).toBeNull();
  });
});

describe('discoverNode', () => {
  it('finds this machine: a v1 or hybrid hierarchy, its CPUs, disks and default interface', async () => {
    const { discoverNode } = await import('../../../src/agent/discovery/node.ts');
    const facts = await discoverNode({ driver: 'cgroupfs' });
    expect(['v1', 'v2', 'hybrid']).toContain(facts.cgroup.hierarchy);
    expect(facts.topology.cpus.length).toBeGreaterThan(0);
    expect(facts.blockDevices.every(d => /^[0-9]+:[0-9]+$/.test(d.majMin))).toBe(true);
    expect(facts.defaultInterface === null || facts.defaultInterface.length > 0).toBe(true);
  });
});
