// Block devices for blkio / io throttles: whole disks from <sys>/block/*/dev ("MAJ:MIN"), and the plan's device
// names ('all', 'MAJ:MIN', '/dev/sda', '/dev/mapper/name') resolved against them.
import { resolveUnder, assertPlainName, PathRefusedError } from '../cgroup/safe-path.ts';
import { errnoOf, type AgentFs } from '../fs.ts';

export interface BlockDevice {
  readonly name: string;
  readonly majMin: string;
  /** device-mapper name (from <sys>/block/dm-N/dm/name), when it is a dm device. */
  readonly dmName?: string | undefined;
}

const majMinPattern = /^[0-9]{1,10}:[0-9]{1,10}$/;
/** Virtual disks that 'all' skips unless nothing else exists: loop devices, ramdisks, compressed RAM swap. */
const virtualDisk = /^(loop|ram|zram)[0-9]+$/;

async function readTrimmed(fs: AgentFs, path: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path)).trim();
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whole disks only: partitions live below their disk in sysfs and cannot carry throttle rules. */
export async function listBlockDevices(fs: AgentFs, sysRoot = '/sys'): Promise<BlockDevice[]> {
  const blockRoot = resolveUnder(sysRoot, 'block');
  if (!(await fs.exists(blockRoot))) return [];
  const devices: BlockDevice[] = [];
  for (const name of (await fs.listNames(blockRoot)).sort()) {
    if (name.startsWith('.')) continue;
    const majMin = await readTrimmed(fs, resolveUnder(blockRoot, name, 'dev'));
    if (majMin === undefined || !majMinPattern.test(majMin)) continue;
    const dmName = await readTrimmed(fs, resolveUnder(blockRoot, name, 'dm', 'name'));
    devices.push({ name, majMin, dmName });
  }
  return devices;
}

export type DeviceResolution =
  { readonly ok: true; readonly majMins: string[] } | { readonly ok: false; readonly reason: string };

function resolveDevPath(spec: string, devices: readonly BlockDevice[]): DeviceResolution {
  const parts = spec.slice('/dev/'.length).split('/');
  try {
    for (const part of parts) assertPlainName(part, 'device name');
  } catch (error) {
    if (error instanceof PathRefusedError) return { ok: false, reason: error.message };
    throw error;
  }
  const [first, second] = parts;
  const found =
    parts.length === 1
      ? devices.find(device => device.name === first)
      : parts.length === 2 && first === 'mapper'
        ? devices.find(device => device.dmName === second)
        : undefined;
  if (found) return { ok: true, majMins: [found.majMin] };
  return {
    ok: false,
    reason: `${spec} is not a whole disk on this node (partitions and other /dev paths cannot be throttled)`,
  };
}

export function resolveDevice(spec: string, devices: readonly BlockDevice[]): DeviceResolution {
  if (spec === 'all') {
    const real = devices.filter(device => !virtualDisk.test(device.name));
    return { ok: true, majMins: (real.length > 0 ? real : devices).map(device => device.majMin) };
  }
  if (majMinPattern.test(spec)) return { ok: true, majMins: [spec] };
  if (spec.startsWith('/dev/')) return resolveDevPath(spec, devices);
  return { ok: false, reason: `device "${spec.slice(0, 64)}" is neither all, MAJ:MIN nor a /dev path` };
}
