// Cgroup version and driver of this node: from mountinfo and from which kubepods directory exists, with overrides.
import {
  CgroupLayout,
  defaultKubepodsDir,
  type CgroupDriver,
  type CgroupVersion,
  type Controller,
} from '../cgroup/layout.ts';
import { assertAbsoluteRoot, resolveUnder } from '../cgroup/safe-path.ts';
import { errnoOf, type AgentFs } from '../fs.ts';
import { cgroupMountsUnder, parseMountInfo, type CgroupMounts, type HierarchyKind } from './mountinfo.ts';

export interface CgroupModeOptions {
  readonly fs: AgentFs;
  readonly cgroupRoot?: string | undefined;
  readonly procRoot?: string | undefined;
  readonly hierarchy?: HierarchyKind | undefined;
  readonly driver?: CgroupDriver | undefined;
  readonly kubepodsDir?: string | undefined;
}

export interface CgroupMode {
  readonly cgroupRoot: string;
  readonly hierarchy: HierarchyKind;
  /** What the executor writes: hybrid nodes keep their controllers on v1 (as kubelet treats them). */
  readonly version: CgroupVersion;
  readonly driver: CgroupDriver;
  readonly kubepodsDir: string;
  readonly v1Mounts: Partial<Record<Controller, string>>;
  readonly memoryRecursiveProt: boolean;
}

async function detectDriver(fs: AgentFs, probeBase: string): Promise<CgroupDriver> {
  const systemd = await fs.exists(resolveUnder(probeBase, defaultKubepodsDir('systemd')));
  const cgroupfs = await fs.exists(resolveUnder(probeBase, defaultKubepodsDir('cgroupfs')));
  if (systemd && !cgroupfs) return 'systemd';
  if (cgroupfs && !systemd) return 'cgroupfs';
  const found = systemd
    ? 'both kubepods and kubepods.slice exist'
    : 'neither kubepods nor kubepods.slice exists';
  throw new Error(`cannot tell the cgroup driver: ${found} under ${probeBase}; pass --cgroup-driver`);
}

/** With an explicit kubepods dir and no driver: systemd names its slices "*.slice", cgroupfs does not. */
function driverFromName(kubepodsDir: string): CgroupDriver {
  return kubepodsDir.endsWith('.slice') ? 'systemd' : 'cgroupfs';
}

/** The conventional layout, for a node whose mountinfo cannot be read but whose hierarchy the flags name. */
const conventionalMounts: Record<HierarchyKind, CgroupMounts> = {
  v2: { kind: 'v2', v1Mounts: {}, memoryRecursiveProt: false },
  v1: {
    kind: 'v1',
    v1Mounts: { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'blkio' },
    memoryRecursiveProt: false,
  },
  hybrid: {
    kind: 'hybrid',
    v1Mounts: { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'blkio' },
    memoryRecursiveProt: false,
  },
};

/** Mounts from mountinfo; when it is missing or unreadable, the flags' hierarchy with conventional mount names. */
async function readMounts(
  options: CgroupModeOptions,
  procRoot: string,
  cgroupRoot: string,
): Promise<CgroupMounts> {
  const { fs, hierarchy, kubepodsDir } = options;
  const path = resolveUnder(procRoot, 'self', 'mountinfo');
  let text: string;
  try {
    text = await fs.readFile(path);
  } catch (error) {
    if (hierarchy !== undefined) return conventionalMounts[hierarchy];
    throw new Error(
      `cannot read ${path} (${errnoOf(error)}) to find the cgroup layout; pass --cgroup-version`,
      {
        cause: error,
      },
    );
  }
  // A --kubepods of one plain name may be mounted on its own, like kubelet's kubepods directories.
  const names = kubepodsDir === undefined ? undefined : [kubepodsDir];
  return cgroupMountsUnder(parseMountInfo(text), cgroupRoot, names);
}

export async function detectCgroupMode(options: CgroupModeOptions): Promise<CgroupMode> {
  const cgroupRoot = assertAbsoluteRoot(options.cgroupRoot ?? '/sys/fs/cgroup', 'cgroup root');
  const procRoot = assertAbsoluteRoot(options.procRoot ?? '/proc', 'proc root');
  const mounts = await readMounts(options, procRoot, cgroupRoot);
  const hierarchy = options.hierarchy ?? mounts.kind;
  const version: CgroupVersion = hierarchy === 'v2' ? 'v2' : 'v1';
  // An explicit v1 override on a node whose mountinfo says v2 falls back to the conventional mount names.
  const v1Mounts =
    version === 'v1' && mounts.kind === 'v2'
      ? { cpu: 'cpu', cpuset: 'cpuset', memory: 'memory', blkio: 'blkio' }
      : mounts.v1Mounts;
  const cpuMount = v1Mounts.cpu ?? 'cpu';
  const driver =
    options.driver ??
    (options.kubepodsDir === undefined
      ? await detectDriver(options.fs, version === 'v2' ? cgroupRoot : resolveUnder(cgroupRoot, cpuMount))
      : driverFromName(options.kubepodsDir));
  const kubepodsDir = options.kubepodsDir ?? defaultKubepodsDir(driver);
  return {
    cgroupRoot,
    hierarchy,
    version,
    driver,
    kubepodsDir,
    v1Mounts,
    memoryRecursiveProt: mounts.memoryRecursiveProt,
  };
}

export function layoutFor(mode: CgroupMode): CgroupLayout {
  return new CgroupLayout({
    cgroupRoot: mode.cgroupRoot,
    version: mode.version,
    driver: mode.driver,
    kubepodsDir: mode.kubepodsDir,
    v1Mounts: mode.version === 'v1' ? mode.v1Mounts : undefined,
  });
}
