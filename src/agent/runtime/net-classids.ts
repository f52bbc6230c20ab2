// Tags each pod's cgroup with its class's net_cls classid (cgroup v1), so the tc cgroup filter sends its egress to
// the class's HTB leaf. On v2 there is no net_cls: one status line says so.
import type { PlanPod } from '../../api/plan.ts';
import { CgroupLayout } from '../cgroup/layout.ts';
import type { CgroupMode } from '../discovery/cgroup-mode.ts';
import { messageOf } from '../fs.ts';
import { ensureNetClsMounted, netClsUnsupportedOnV2, writeNetClassid } from '../net/net-cls.ts';

export interface ClassidPass {
  readonly written: number;
  readonly unsupported: string[];
  readonly failures: { pod: string; knob: string; message: string }[];
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

export async function applyNetClassids(
  mode: CgroupMode,
  pods: readonly PlanPod[],
  procRoot: string,
): Promise<ClassidPass> {
  if (mode.version === 'v2')
    return { written: 0, unsupported: [`net_cls: ${netClsUnsupportedOnV2}`.slice(0, 256)], failures: [] };
  const { readFile } = await import('node:fs/promises');
  const mount = await ensureNetClsMounted({
    cgroupRoot: mode.cgroupRoot,
    readMountinfo: () => readFile(`${procRoot}/self/mountinfo`, 'utf8'),
  });
  // The net_cls hierarchy is laid out like the others (kubelet creates pod cgroups in every mounted hierarchy).
  const layout = new CgroupLayout({
    cgroupRoot: mount.mountPoint,
    version: 'v2',
    driver: mode.driver,
    kubepodsDir: mode.kubepodsDir,
  });
  let written = 0;
  const failures: ClassidPass['failures'] = [];
  let missing = 0;
  for (const pod of pods) {
    try {
      const dir = layout.dir('cpu', layout.podSegments(pod.uid, pod.kubeQoS));
      const result = await writeNetClassid({
        version: 1,
        root: mount.mountPoint,
        dir,
        classid: pod.net.classid,
      });
      if (result.status === 'written') written++;
    } catch (error) {
      if (isMissing(error)) missing++;
      else
        failures.push({
          pod: `${pod.namespace}/${pod.name}`,
          knob: 'net_cls.classid',
          message: messageOf(error).slice(0, 1024),
        });
    }
  }
  const unsupported =
    missing > 0
      ? [
          `net_cls: ${missing} pod(s) have no cgroup in the net_cls hierarchy (it was mounted after they started)`,
        ]
      : [];
  return { written, unsupported, failures };
}
