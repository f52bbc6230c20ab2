// Which pods a plan may drop: a pinned pod the server still runs blocks the write; a deleted, replaced (new uid) or
// finished one, or any shared pod, does not.
import { describe, expect, it } from 'vitest';
import {
  confirmPinnedPodsGone,
  PodCacheBehindError,
  type PodLookup,
} from '../../src/controller/pin-guard.ts';
import { plan, planPod, uids } from '../agent/helpers/plans.ts';

const pinned = planPod({
  uid: uids.lse,
  name: 'lse',
  qosClass: 'LSE',
  kubeQoS: 'Guaranteed',
  cpu: { cpuset: '1', pinned: 'exclusive' },
});
const shared = planPod({ uid: uids.ls, name: 'ls', qosClass: 'LS', kubeQoS: 'Burstable' });
const current = plan('n', [pinned, shared]).spec;
const next = plan('n', []).spec;

const serverWith =
  (pods: Record<string, { uid: string; phase?: string }>): PodLookup =>
  (_namespace, name) => {
    const pod = pods[name];
    return Promise.resolve(pod === undefined ? undefined : { uid: pod.uid, phase: pod.phase });
  };

describe('confirmPinnedPodsGone', () => {
  it('refuses to drop a pinned pod the server still runs', async () => {
    await expect(
      confirmPinnedPodsGone(current, next, serverWith({ lse: { uid: uids.lse, phase: 'Running' } })),
    ).rejects.toBeInstanceOf(PodCacheBehindError);
  });

  it('lets go of a pinned pod that is deleted, replaced under the same name, or finished', async () => {
    for (const server of [
      serverWith({}),
      serverWith({ lse: { uid: 'another-uid', phase: 'Running' } }),
      serverWith({ lse: { uid: uids.lse, phase: 'Succeeded' } }),
      serverWith({ lse: { uid: uids.lse, phase: 'Failed' } }),
    ])
      await expect(confirmPinnedPodsGone(current, next, server)).resolves.toBeUndefined();
  });

  it('never looks up shared pods or pods the next plan keeps', async () => {
    const asked: string[] = [];
    const lookup: PodLookup = (_namespace, name) => {
      asked.push(name);
      return Promise.resolve(undefined);
    };
    await confirmPinnedPodsGone(current, plan('n', [pinned]).spec, lookup);
    await confirmPinnedPodsGone(current, next, lookup);
    expect(asked).toEqual(['lse']);
  });
});
