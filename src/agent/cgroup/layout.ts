// Where kubelet puts pod cgroups, for both cgroup drivers and both hierarchy versions (kubelet pkg/kubelet/cm).
//   cgroupfs: kubepods/pod<uid>, kubepods/burstable/pod<uid>, kubepods/besteffort/pod<uid>
//   systemd:  kubepods.slice/kubepods-pod<uid_>.slice, kubepods.slice/kubepods-burstable.slice/
//             kubepods-burstable-pod<uid_>.slice, same with besteffort (uid_ = uid with '-' -> '_')
// v1 paths are <root>/<controller>/<kubepods...>, v2 paths <root>/<kubepods...>.
import type { KubeQoS } from '../../api/group.ts';
import type { AgentFs } from '../fs.ts';
import { podUidOf as podUidFromName, tierOfKubeQoS } from './kubepods-names.ts';
import {
  assertAbsoluteRoot,
  assertPlainName,
  assertPodUid,
  PathRefusedError,
  resolveUnder,
  splitRelativeDir,
} from './safe-path.ts';

export type CgroupVersion = 'v1' | 'v2';
export type CgroupDriver = 'cgroupfs' | 'systemd';
export const v1Controllers = ['cpu', 'cpuset', 'memory', 'blkio', 'net_cls'] as const;
export type Controller = (typeof v1Controllers)[number];
/** What a v1 layout assumes without discovery: net_cls is used only where a hierarchy carrying it is mounted. */
const assumedV1Controllers = ['cpu', 'cpuset', 'memory', 'blkio'] as const;

export interface LayoutOptions {
  readonly cgroupRoot: string;
  readonly version: CgroupVersion;
  readonly driver: CgroupDriver;
  /** The kubepods directory relative to the root (per controller on v1); default by driver. */
  readonly kubepodsDir?: string | undefined;
  /**
   * v1 only: the directory under the root each controller is mounted at ("cpu", or "cpu,cpuacct" without the
   * usual symlink). A controller missing from the map is not mounted. Default: every controller at its own name.
   */
  readonly v1Mounts?: Partial<Record<Controller, string>> | undefined;
}

export function defaultKubepodsDir(driver: CgroupDriver): string {
  return driver === 'systemd' ? 'kubepods.slice' : 'kubepods';
}

export interface ContainerListing {
  readonly names: string[];
  /** Sub-directories whose names were refused (hidden, odd characters): reported, never entered. */
  readonly refused: string[];
}

/**
 * Paths already built and checked, by their parts: a pass builds the same few thousand paths every time, and
 * path.resolve with the escape check was a sixth of a drift check's CPU. Only successes are kept; the map is
 * emptied when it outgrows `cap` (pods come and go), so it stays bounded.
 */
class PathMemo {
  readonly #paths = new Map<string, string>();
  readonly #cap: number;

  constructor(cap: number) {
    this.#cap = cap;
  }

  get(key: string, build: () => string): string {
    const known = this.#paths.get(key);
    if (known !== undefined) return known;
    const path = build();
    if (this.#paths.size >= this.#cap) this.#paths.clear();
    this.#paths.set(key, path);
    return path;
  }
}

export class CgroupLayout {
  readonly root: string;
  readonly version: CgroupVersion;
  readonly driver: CgroupDriver;
  readonly kubepods: readonly string[];
  readonly #mounts: Partial<Record<Controller, string>>;
  /** 1,024 pods x ~20 files x 2 directories each, with room to spare. */
  readonly #memo = new PathMemo(65_536);

  constructor(options: LayoutOptions) {
    this.root = assertAbsoluteRoot(options.cgroupRoot, 'cgroup root');
    this.version = options.version;
    this.driver = options.driver;
    this.kubepods = splitRelativeDir(
      options.kubepodsDir ?? defaultKubepodsDir(options.driver),
      'kubepods dir',
    );
    const mounts = options.v1Mounts ?? Object.fromEntries(assumedV1Controllers.map(c => [c, c]));
    for (const name of Object.values(mounts)) assertPlainName(name, 'controller mount dir');
    this.#mounts = mounts;
  }

  /** Whether a controller's files can exist: always on v2 (missing files are found per file), mounted on v1. */
  hasController(controller: Controller): boolean {
    return this.version === 'v2' || this.#mounts[controller] !== undefined;
  }

  /** Path segments of a kubepods QoS directory, relative to the (controller) root. */
  qosSegments(kubeQoS: KubeQoS): string[] {
    if (kubeQoS === 'Guaranteed') return [...this.kubepods];
    const tier = kubeQoS === 'Burstable' ? 'burstable' : 'besteffort';
    return this.driver === 'systemd'
      ? [...this.kubepods, `kubepods-${tier}.slice`]
      : [...this.kubepods, tier];
  }

  podSegments(uid: string, kubeQoS: KubeQoS): string[] {
    assertPodUid(uid);
    if (this.driver === 'cgroupfs') return [...this.qosSegments(kubeQoS), `pod${uid}`];
    const systemdUid = uid.replaceAll('-', '_');
    const prefix =
      kubeQoS === 'Guaranteed'
        ? 'kubepods'
        : `kubepods-${kubeQoS === 'Burstable' ? 'burstable' : 'besteffort'}`;
    return [...this.qosSegments(kubeQoS), `${prefix}-pod${systemdUid}.slice`];
  }

  /**
   * The pod UID a directory name under a QoS directory stands for (undefined: not a pod directory): the naming the
   * cgroup watcher reads too (kubepods-names.ts), held to the strict UID every path is built from.
   */
  podUidOf(name: string, kubeQoS: KubeQoS): string | undefined {
    const uid = podUidFromName(this.driver, tierOfKubeQoS(kubeQoS), name);
    if (uid === undefined) return undefined;
    try {
      assertPodUid(uid);
      return uid;
    } catch {
      return undefined;
    }
  }

  /** Absolute directory for segments under a controller (v1) or the unified root (v2). */
  dir(controller: Controller, segments: readonly string[]): string {
    // NUL never survives into a built path (resolveUnder refuses it), so it separates the key's parts safely.
    return this.#memo.get(`d\0${controller}\0${segments.join('\0')}`, () =>
      this.#buildDir(controller, segments),
    );
  }

  #buildDir(controller: Controller, segments: readonly string[]): string {
    if (this.version === 'v2') return resolveUnder(this.root, ...segments);
    const mount = this.#mounts[controller];
    if (mount === undefined)
      throw new PathRefusedError(`cgroup v1 controller ${controller} is not mounted under ${this.root}`);
    const base = resolveUnder(this.root, mount);
    return resolveUnder(base, ...segments);
  }

  qosDir(controller: Controller, kubeQoS: KubeQoS): string {
    return this.dir(controller, this.qosSegments(kubeQoS));
  }

  podDir(controller: Controller, uid: string, kubeQoS: KubeQoS): string {
    return this.#memo.get(`p\0${controller}\0${uid}\0${kubeQoS}`, () =>
      this.dir(controller, this.podSegments(uid, kubeQoS)),
    );
  }

  containerDir(podDir: string, name: string): string {
    return this.#memo.get(`c\0${podDir}\0${name}`, () => this.#buildContainerDir(podDir, name));
  }

  #buildContainerDir(podDir: string, name: string): string {
    assertPlainName(name, 'container cgroup name');
    if (!podDir.startsWith(this.root))
      throw new PathRefusedError(`refused pod dir ${podDir}: not under ${this.root}`);
    return resolveUnder(podDir, name);
  }

  /** File inside a directory the layout produced; the file name is one of the executor's fixed knob names. */
  file(dir: string, name: string): string {
    return this.#memo.get(`f\0${dir}\0${name}`, () => {
      assertPlainName(name, 'cgroup file name');
      return resolveUnder(dir, name);
    });
  }

  /** Container cgroups of a pod: every sub-directory, whatever the runtime named it. */
  async listContainers(fs: AgentFs, podDir: string): Promise<ContainerListing> {
    const names: string[] = [];
    const refused: string[] = [];
    for (const name of (await fs.listDirs(podDir)).sort()) {
      try {
        assertPlainName(name, 'container cgroup name');
        names.push(name);
      } catch (error) {
        if (!(error instanceof PathRefusedError)) throw error;
        refused.push(name);
      }
    }
    return { names, refused };
  }
}
