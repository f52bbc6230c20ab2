// Which directory names under kubepods are QoS tiers, pods and containers, for both cgroup drivers (the names
// kubelet's pkg/kubelet/cm gives them; see src/agent/cgroup/layout.ts for the paths it builds from them).
//   cgroupfs: kubepods/{pod<uid>, burstable/pod<uid>, besteffort/pod<uid>}/<container>
//   systemd:  kubepods.slice/{kubepods-pod<uid_>.slice, kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice,
//             kubepods-besteffort.slice/kubepods-besteffort-pod<uid_>.slice}/<container scope>
import type { KubeQoS } from '../../api/group.ts';
import type { CgroupDriver } from './layout.ts';

export type Tier = 'burstable' | 'besteffort';

const tierQoS: Record<Tier, KubeQoS> = { burstable: 'Burstable', besteffort: 'BestEffort' };

/** The QoS tier a directory directly under kubepods stands for, or undefined (a Guaranteed pod, or noise). */
export function tierOf(driver: CgroupDriver, name: string): Tier | undefined {
  for (const tier of ['burstable', 'besteffort'] as const)
    if (name === (driver === 'systemd' ? `kubepods-${tier}.slice` : tier)) return tier;
  return undefined;
}

const uidPattern = '[0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12}';
const cgroupfsPod = new RegExp(`^pod(${uidPattern})$`);

/** The pod UID of a pod directory in the given tier (undefined: the kubepods level itself), or undefined. */
export function podUidOf(driver: CgroupDriver, tier: Tier | undefined, name: string): string | undefined {
  if (driver === 'cgroupfs') return cgroupfsPod.exec(name)?.[1];
  const prefix = tier === undefined ? 'kubepods' : `kubepods-${tier}`;
  const match = new RegExp(`^${prefix}-pod(${uidPattern})\\.slice$`).exec(name);
  return match?.[1]?.replaceAll('_', '-');
}

/** The tier directory a Kubernetes QoS class lives in (undefined: Guaranteed pods sit in kubepods itself). */
export function tierOfKubeQoS(kubeQoS: KubeQoS): Tier | undefined {
  return kubeQoS === 'Guaranteed' ? undefined : kubeQoS === 'Burstable' ? 'burstable' : 'besteffort';
}

export function kubeQoSOfTier(tier: Tier | undefined): KubeQoS {
  return tier === undefined ? 'Guaranteed' : tierQoS[tier];
}

/** A container directory: any plain name (what the runtime calls it varies); hidden names are not containers. */
export function isContainerName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !name.includes('/');
}
