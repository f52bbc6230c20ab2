// The pods the new-container benchmark's "kubelet" creates: pod i's uid and QoS directory ('' Guaranteed,
// 'burstable', 'besteffort' in turn), shared by the child that creates them and the plan that names them.
import type { KubeQoS } from '../../src/api/group.ts';

const tiers = ['', 'burstable', 'besteffort'] as const;
const kubeQoS: Record<(typeof tiers)[number], KubeQoS> = {
  '': 'Guaranteed',
  burstable: 'Burstable',
  besteffort: 'BestEffort',
};

export function podUid(i: number): string {
  return `${(0xbe000000 + i).toString(16)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

export function podTier(i: number): (typeof tiers)[number] {
  return tiers[i % tiers.length] ?? '';
}

export function podKubeQoS(i: number): KubeQoS {
  return kubeQoS[podTier(i)];
}
