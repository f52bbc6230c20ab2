// net_cls (cgroup v1 only): tags a pod's sockets with classid 0xAAAABBBB so the tc cgroup filter sends its egress
// packets to HTB class AAAA:BBBB. The kernel takes the classid in hex but reads it back in decimal, so values are
// compared as numbers.
import { mkdir as mkdirLocal, readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { messageOf, nodeFs, type AgentFs } from '../fs.ts';
import { execRunner, type CommandRunner } from './runner.ts';

export type CgroupVersion = 1 | 2;

export const netClsUnsupportedOnV2 =
  'unsupported on cgroup v2: there is no net_cls controller; classification needs iptables -m cgroup --path or a BPF ' +
  'program matching the cgroup id';

export interface NetClassidResult {
  readonly status: 'written' | 'unchanged' | 'unsupported';
  readonly message?: string;
  /** The classid the cgroup held before a write. */
  readonly previous?: number;
}

export interface NetClassidRequest {
  readonly version: CgroupVersion;
  /** The net_cls hierarchy root (its mount point); dir must lie strictly below it. */
  readonly root: string;
  /** The pod's cgroup directory in the net_cls hierarchy (from the cgroup layout module). */
  readonly dir: string;
  /** 0xAAAABBBB as in the plan. */
  readonly classid: string;
  readonly fs?: Pick<AgentFs, 'readFile' | 'writeFile'>;
}

const classidPattern = /^0x[0-9a-fA-F]{8}$/;

export async function writeNetClassid(request: NetClassidRequest): Promise<NetClassidResult> {
  if (request.version === 2) return { status: 'unsupported', message: netClsUnsupportedOnV2 };
  const { classid, fs = nodeFs } = request;
  if (!classidPattern.test(classid))
    throw new RangeError(`net_cls classid ${JSON.stringify(classid)} is not 0xAAAABBBB`);
  const wanted = Number.parseInt(classid.slice(2), 16);
  const file = join(await dirUnderRoot(request.root, request.dir), 'net_cls.classid');
  const previous = parseClassidFile(await fs.readFile(file), file);
  if (previous === wanted) return { status: 'unchanged' };
  await fs.writeFile(file, classid.toLowerCase());
  const now = parseClassidFile(await fs.readFile(file), file);
  if (now !== wanted) throw new Error(`${file}: wrote ${classid} (${wanted}) but the kernel holds ${now}`);
  return { status: 'written', previous };
}

/** The kernel's decimal form, or hex (0x...) as written by hand. */
export function parseClassidFile(text: string, file: string): number {
  const value = text.trim();
  if (/^\d{1,10}$/.test(value)) return Number(value);
  if (/^0x[0-9a-fA-F]{1,8}$/.test(value)) return Number.parseInt(value.slice(2), 16);
  throw new Error(`${file}: not a classid: "${value.slice(0, 40)}"`);
}

/** The real path of dir, which must resolve (symlinks included) strictly inside the real path of root. */
async function dirUnderRoot(root: string, dir: string): Promise<string> {
  if (!isAbsolute(root) || !isAbsolute(dir))
    throw new RangeError(`net_cls paths must be absolute: root ${root}, dir ${dir}`);
  const [realRoot, realDir] = await Promise.all([realpath(root), realpath(dir)]);
  const rel = relative(realRoot, realDir);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new RangeError(
      `cgroup dir ${dir} (${realDir}) is not below the net_cls root ${root} (${realRoot})`,
    );
  }
  return realDir;
}

/** The mount point of a cgroup v1 hierarchy carrying net_cls, from /proc/self/mountinfo text. */
export function findNetClsMount(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const [mountPart, superPart] = line.split(' - ');
    if (mountPart === undefined || superPart === undefined) continue;
    const [fstype, , options = ''] = superPart.split(' ');
    if (fstype === 'cgroup' && options.split(',').includes('net_cls'))
      return unescapeMountPath(mountPart.split(' ')[4] ?? '');
  }
  return undefined;
}

function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export interface NetClsMountOptions {
  /** The cgroup v1 root (usually /sys/fs/cgroup); net_cls is mounted at <cgroupRoot>/net_cls when absent. */
  readonly cgroupRoot: string;
  readonly readMountinfo?: () => Promise<string>;
  readonly run?: CommandRunner;
  readonly mkdir?: (path: string) => Promise<void>;
}

export interface NetClsMount {
  readonly mountPoint: string;
  /** True when this call mounted it. */
  readonly mounted: boolean;
}

/** Finds the net_cls hierarchy, mounting it at <cgroupRoot>/net_cls when no hierarchy carries it (v1 only). */
export async function ensureNetClsMounted(options: NetClsMountOptions): Promise<NetClsMount> {
  const readMountinfo = options.readMountinfo ?? (async () => readFile('/proc/self/mountinfo', 'utf8'));
  const existing = findNetClsMount(await readMountinfo());
  if (existing !== undefined) return { mountPoint: existing, mounted: false };
  if (!isAbsolute(options.cgroupRoot))
    throw new RangeError(`cgroup root must be absolute: ${options.cgroupRoot}`);
  const target = join(options.cgroupRoot, 'net_cls');
  const mkdir =
    options.mkdir ??
    (async (path: string): Promise<void> => {
      await mkdirLocal(path, { recursive: true });
    });
  try {
    await mkdir(target);
    await (options.run ?? execRunner)('mount', ['-t', 'cgroup', '-o', 'net_cls', 'net_cls', target]);
  } catch (error) {
    throw new Error(`mounting the net_cls hierarchy at ${target}: ${messageOf(error)}`, { cause: error });
  }
  const after = findNetClsMount(await readMountinfo());
  if (after === undefined)
    throw new Error(
      `mount of net_cls at ${target} reported success but /proc/self/mountinfo does not show it`,
    );
  return { mountPoint: after, mounted: true };
}
