// The agent's eviction calls against the embedded API server: the Eviction API with PodDisruptionBudgets
// (minAvailable, maxUnavailable, percentages, unready pods, two budgets), the UID precondition, Events, and a
// strategic merge of the Node's conditions that leaves kubelet's Ready alone.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeConditionsPublisher } from '../../../src/agent/conditions/node-conditions.ts';
import { EvictionCoolDown } from '../../../src/agent/eviction/cool-down.ts';
import { patchNodeConditions, readNode } from '../../../src/agent/conditions/node-api.ts';
import { evictPod, recordEvent } from '../../../src/agent/eviction/kube-calls.ts';
import {
  rankBEVictims,
  type EvictionCandidate,
  type RankedVictim,
} from '../../../src/agent/eviction/ranking.ts';
import { evictionRound, type EvictOutcome } from '../../../src/agent/eviction/round.ts';
import type { EvictionState } from '../../../src/agent/eviction/runner.ts';
import { startDevServer, type DevServer, type JsonObject } from '../../../src/devserver/index.ts';
import { planEviction } from '../helpers/plans.ts';
import { LiteKubeClient } from '../../../src/kube/lite/client.ts';
import { liteClientFor } from '../../support/lite-client.ts';

let server: DevServer;
let client: LiteKubeClient;

beforeEach(async () => {
  server = await startDevServer();
  client = liteClientFor(server);
});

afterEach(async () => {
  await client.close();
  await server.close();
});

function seedPod(name: string, labels: Record<string, string>, readyStatus = 'True'): JsonObject {
  return server.store.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: readyStatus }] },
  });
}

function seedBudget(name: string, spec: JsonObject): void {
  server.store.create('poddisruptionbudgets.policy', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default' },
    spec,
  });
}

function ref(pod: JsonObject): { namespace: string; name: string; uid: string } {
  const metadata = pod.metadata as { name: string; uid: string };
  return { namespace: 'default', name: metadata.name, uid: metadata.uid };
}

const exists = (name: string): boolean => server.store.get('pods', 'default', name) !== undefined;

describe('Eviction API on the embedded server', () => {
  it('evicts a pod no budget covers: the pod is deleted', async () => {
    const pod = seedPod('be-1', { app: 'be' });
    expect(await evictPod(client, ref(pod))).toEqual({ kind: 'evicted' });
    expect(exists('be-1')).toBe(false);
    expect(await evictPod(client, ref(pod))).toEqual({ kind: 'gone' });
  });

  it('refuses with 429 what minAvailable protects, and allows once there is room', async () => {
    const a = seedPod('a', { app: 'web' });
    seedPod('b', { app: 'web' });
    seedBudget('web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
    const refused = await evictPod(client, ref(a));
    expect(refused).toEqual({
      kind: 'refused',
      reason: 'HTTP 429: The disruption budget web needs 2 healthy pods and has 2 currently',
    });
    expect(exists('a')).toBe(true);
    seedPod('c', { app: 'web' });
    expect(await evictPod(client, ref(a))).toEqual({ kind: 'evicted' });
    expect(exists('a')).toBe(false);
  });

  it('maxUnavailable as a percentage of the expected pods; an unready pod may go while the budget holds', async () => {
    const pods = ['p1', 'p2', 'p3', 'p4'].map(n => seedPod(n, { app: 'q' }));
    const unready = seedPod('p5', { app: 'q' }, 'False');
    // 25 % of 5 expected pods = 2 (rounded up): desired healthy 3.
    server.store.create('poddisruptionbudgets.policy', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'q', namespace: 'default' },
      spec: { maxUnavailable: '25%', selector: { matchLabels: { app: 'q' } } },
      status: { expectedPods: 5 },
    });
    // The unready pod: healthy 4 >= 3.
    expect(await evictPod(client, ref(unready))).toEqual({ kind: 'evicted' });
    // A ready one: healthy 4 - desired 3 = 1 disruption allowed.
    expect(await evictPod(client, ref(pods[0]!))).toEqual({ kind: 'evicted' });
    // Healthy 3 = desired 3: none.
    expect(await evictPod(client, ref(pods[1]!))).toMatchObject({ kind: 'refused' });
    expect(exists('p2')).toBe(true);
  });

  it('two budgets on one pod are a 500, counted as refused; a UID that changed is a failure, not a hit', async () => {
    const pod = seedPod('two', { app: 'x', tier: 'y' });
    seedBudget('one', { maxUnavailable: 1, selector: { matchLabels: { app: 'x' } } });
    seedBudget('other', { maxUnavailable: 1, selector: { matchLabels: { tier: 'y' } } });
    const outcome = await evictPod(client, ref(pod));
    expect(outcome.kind).toBe('refused');
    const single = seedPod('single', { app: 'z' });
    expect(
      await evictPod(client, { ...ref(single), uid: '00000000-0000-0000-0000-000000000000' }),
    ).toMatchObject({
      kind: 'failed',
    });
    expect(exists('single')).toBe(true);
  });

  it('a round over the API server: the budget-protected pod waits, the next in rank goes, the first is retried after the cool-down', async () => {
    const big = seedPod('big', { app: 'guarded' });
    seedPod('guard', { app: 'guarded' });
    const small = seedPod('small', { app: 'free' });
    seedBudget('guarded', { minAvailable: 2, selector: { matchLabels: { app: 'guarded' } } });
    const candidate = (pod: JsonObject, usage: number): EvictionCandidate => ({
      ...ref(pod),
      key: `default/${ref(pod).name}`,
      qosClass: 'BE' as const,
      priority: undefined,
      usage,
      request: 0,
    });
    const { ranked } = rankBEVictims([candidate(big, 900), candidate(small, 100)], 0);
    const coolDown = new EvictionCoolDown(30);
    const evict = (pod: RankedVictim): Promise<EvictOutcome> => evictPod(client, pod);
    const first = await evictionRound({ ranked, target: 500, pending: 0, coolDown, now: 0, evict });
    expect(first.refused.map(r => r.pod.name)).toEqual(['big']);
    expect(first.evicted.map(p => p.name)).toEqual(['small']);
    seedPod('guard-2', { app: 'guarded' });
    const early = await evictionRound({
      ranked: ranked.slice(0, 1),
      target: 500,
      pending: 0,
      coolDown,
      now: 10_000,
      evict,
    });
    expect(early.waiting.map(p => p.name)).toEqual(['big']);
    expect(exists('big')).toBe(true);
    const late = await evictionRound({
      ranked: ranked.slice(0, 1),
      target: 500,
      pending: 0,
      coolDown,
      now: 30_000,
      evict,
    });
    expect(late.evicted.map(p => p.name)).toEqual(['big']);
    expect(exists('big')).toBe(false);
  });
});

describe('Events and node conditions', () => {
  it('records an Event on the pod and on the node', async () => {
    await recordEvent(
      client,
      { kind: 'Pod', name: 'be-1', namespace: 'default', uid: 'u' },
      { type: 'Warning', reason: 'BEEvicted', message: 'm', component: 'nodeqos-agent', now: new Date(0) },
    );
    await recordEvent(
      client,
      { kind: 'Node', name: 'n1' },
      {
        type: 'Warning',
        reason: 'BEMemoryEviction',
        message: 'n',
        component: 'nodeqos-agent',
        now: new Date(0),
      },
    );
    const events = server.store.list('events', 'default') as {
      involvedObject: { kind: string };
      reason: string;
    }[];
    expect(events.map(e => [e.involvedObject.kind, e.reason]).sort()).toEqual([
      ['Node', 'BEMemoryEviction'],
      ['Pod', 'BEEvicted'],
    ]);
  });

  it("merges the agent's conditions by type, leaving kubelet's Ready in place", async () => {
    server.store.create('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: '' }] },
    });
    const condition = {
      type: 'BEMemoryPressure',
      status: 'True' as const,
      reason: 'WorkingSetOverThreshold',
      message: '75% >= 70%',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      lastHeartbeatTime: '2026-01-01T00:00:00Z',
    };
    await patchNodeConditions(client, 'n1', [condition]);
    const { conditions } = await readNode(client, 'n1');
    expect(conditions.map(c => [c.type, c.status])).toEqual([
      ['Ready', 'True'],
      ['BEMemoryPressure', 'True'],
    ]);
  });
});

describe('NodeConditionsPublisher', () => {
  const settings = planEviction({ conditionTransitionSeconds: 60, memory: { enabled: true } });
  const memory = (over: boolean): EvictionState => ({
    memory: { percent: over ? 75 : 50, thresholdBytes: 70, lowerBytes: 68, over, targetBytes: over ? 7 : 0 },
    cpu: undefined,
    lastRound: undefined,
  });

  it('patches on a change, holds pressure for the transition period, and otherwise only on the heartbeat', async () => {
    server.store.create('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: '' }] },
    });
    const publisher = new NodeConditionsPublisher({
      client,
      nodeName: 'n1',
      logger: pino({ level: 'silent' }),
      heartbeatMs: 300_000,
    });
    const rv = (): unknown =>
      (server.store.get('nodes', '', 'n1')?.metadata as { resourceVersion: string }).resourceVersion;
    const status = (type: string): unknown =>
      (
        server.store.get('nodes', '', 'n1')?.status as { conditions: { type: string; status: string }[] }
      ).conditions.find(c => c.type === type)?.status;
    const inputs = (over: boolean): Parameters<NodeConditionsPublisher['publish']>[0] => ({
      planStatus: undefined,
      eviction: memory(over),
      settings,
    });
    expect(await publisher.publish(inputs(true), 0)).toBe(true);
    expect(status('BEMemoryPressure')).toBe('True');
    expect(status('NodeQoSApplied')).toBe('Unknown');
    expect(status('Ready')).toBe('True');
    const before = rv();
    // Below the threshold again, but within the transition period: still True, nothing written.
    expect(await publisher.publish(inputs(false), 30_000)).toBe(false);
    expect(await publisher.publish(inputs(false), 60_000)).toBe(false);
    expect(rv()).toBe(before);
    // Past the period: False, written.
    expect(await publisher.publish(inputs(false), 60_001)).toBe(true);
    expect(status('BEMemoryPressure')).toBe('False');
    // Unchanged: only the heartbeat writes.
    expect(await publisher.publish(inputs(false), 200_000)).toBe(false);
    expect(await publisher.publish(inputs(false), 360_001)).toBe(true);
  });

  it('with spec.eviction.taint, taints the node while under pressure and removes only its own taint after', async () => {
    const other = { key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' };
    server.store.create('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1' },
      spec: { taints: [other] },
      status: { conditions: [] },
    });
    const publisher = new NodeConditionsPublisher({
      client,
      nodeName: 'n1',
      logger: pino({ level: 'silent' }),
    });
    const taints = async (): Promise<unknown> => (await readNode(client, 'n1')).taints;
    const withTaint = { ...settings, taint: true };
    await publisher.publish({ planStatus: undefined, eviction: memory(false), settings: withTaint }, 0);
    expect(await taints()).toEqual([other]);
    await publisher.publish({ planStatus: undefined, eviction: memory(true), settings: withTaint }, 1000);
    expect(await taints()).toEqual([other, { key: 'nodeqos.io/be-pressure', effect: 'NoSchedule' }]);
    // Held through the transition period, removed after it; the other taint stays.
    await publisher.publish({ planStatus: undefined, eviction: memory(false), settings: withTaint }, 61_000);
    expect(await taints()).toHaveLength(2);
    await publisher.publish({ planStatus: undefined, eviction: memory(false), settings: withTaint }, 61_001);
    expect(await taints()).toEqual([other]);
    // The switch off removes it even under pressure; a fresh agent finds a leftover taint and removes it too.
    await publisher.publish({ planStatus: undefined, eviction: memory(true), settings: withTaint }, 62_000);
    expect(await taints()).toHaveLength(2);
    const restarted = new NodeConditionsPublisher({
      client,
      nodeName: 'n1',
      logger: pino({ level: 'silent' }),
    });
    await restarted.publish({ planStatus: undefined, eviction: memory(true), settings }, 63_000);
    expect(await taints()).toEqual([other]);
  });
});
