// Real cgroup v1 kernel + embedded API server: BE memory eviction end to end. A private memory tree
// nodeqos-test-<random> holds three BE pods and one LS pod, each a real process that allocates and touches its
// memory inside its pod cgroup. The node's memory signal is the test tree's working set against a simulated
// capacity chosen so the lower bound asks for more than the largest BE pod and less than the two largest: the
// agent must evict exactly those two, through the Eviction API, and never the LS pod, which uses more than any
// of them. Processes and cgroups are removed in afterAll even when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CgroupLayout } from '../../src/agent/cgroup/layout.ts';
import { cgroupWorkingSet } from '../../src/agent/eviction/memory-reader.ts';
import { EvictionRunner } from '../../src/agent/eviction/runner.ts';
import { nodeFs } from '../../src/agent/fs.ts';
import type { Pod } from '../../src/api/inputs.ts';
import type { PlanSpec } from '../../src/api/plan.ts';
import { startDevServer, type DevServer, type JsonObject } from '../../src/devserver/index.ts';
import { LiteKubeClient } from '../../src/kube/lite/client.ts';
import { liteClientFor } from '../support/lite-client.ts';
import { transformPod } from '../../src/kube/transforms.ts';
import { removeDir } from '../support/kubepods.ts';
import { plan, planEviction } from './helpers/plans.ts';

const memoryRoot = '/sys/fs/cgroup/memory';
const testRoot = `nodeqos-test-${randomBytes(4).toString('hex')}`;
const nodeName = 'kernel-node';
const Mi = 1024 * 1024;

interface TestPod {
  readonly name: string;
  readonly qos: 'BE' | 'LS';
  readonly kubeQoS: 'BestEffort' | 'Burstable';
  readonly mib: number;
}

const pods: readonly TestPod[] = [
  { name: 'be-big', qos: 'BE', kubeQoS: 'BestEffort', mib: 96 },
  { name: 'be-mid', qos: 'BE', kubeQoS: 'BestEffort', mib: 48 },
  { name: 'be-small', qos: 'BE', kubeQoS: 'BestEffort', mib: 16 },
  { name: 'ls-hog', qos: 'LS', kubeQoS: 'Burstable', mib: 160 },
];

async function usable(): Promise<boolean> {
  try {
    await access(memoryRoot, constants.W_OK);
    await access('/usr/bin/python3', constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const enabled = await usable();
const processes = new Map<string, ChildProcess>();
const uids = new Map<string, string>();
let server: DevServer;
let client: LiteKubeClient;

/** A process that waits until it is in its cgroup, then allocates and touches `mib` MiB and reports it. */
async function startProcess(pod: TestPod, cgroupDir: string): Promise<void> {
  const script = [
    'import sys',
    'sys.stdin.readline()',
    `block = b"x" * (${pod.mib} * 1024 * 1024)`,
    'print("ready", flush=True)',
    'sys.stdin.readline()',
  ].join('\n');
  const child = spawn('/usr/bin/python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  processes.set(pod.name, child);
  if (child.pid === undefined) throw new Error(`${pod.name}: not started`);
  await writeFile(join(cgroupDir, 'cgroup.procs'), String(child.pid));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', code => {
      reject(new Error(`${pod.name} exited with ${code}`));
    });
  });
  child.stdin.write('go\n');
  await ready;
}

function kill(name: string): Promise<void> {
  const child = processes.get(name);
  processes.delete(name);
  if (child?.exitCode !== null) return Promise.resolve();
  return new Promise(resolve => {
    child.once('exit', () => {
      resolve();
    });
    child.kill('SIGKILL');
  });
}

function podDir(pod: TestPod): string {
  const tier = pod.kubeQoS === 'BestEffort' ? 'besteffort' : 'burstable';
  return join(memoryRoot, testRoot, tier, `pod${uids.get(pod.name) ?? ''}`);
}

/** The node's pods as the agent's informer holds them: listed from the API server, through the same transform. */
async function listPods(): Promise<Pod[]> {
  const list = await client.listAll('/api/v1/pods', { fieldSelector: `spec.nodeName=${nodeName}` });
  return list.items.flatMap(item => {
    const pod = transformPod({ ...(item as JsonObject), apiVersion: 'v1', kind: 'Pod' });
    return pod === undefined ? [] : [pod];
  });
}

describe.skipIf(!enabled)('BE memory eviction on the real cgroup v1 kernel', () => {
  beforeAll(async () => {
    server = await startDevServer();
    client = liteClientFor(server);
    for (const pod of pods) {
      const created = server.store.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: pod.name, namespace: 'default', labels: { 'nodeqos.io/qos-class': pod.qos } },
        spec: {
          nodeName,
          containers: [
            {
              name: 'c',
              image: 'x',
              ...(pod.kubeQoS === 'Burstable' ? { resources: { requests: { memory: '200Mi' } } } : {}),
            },
          ],
        },
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      });
      uids.set(pod.name, (created.metadata as { uid: string }).uid);
    }
    for (const dir of ['', 'besteffort', 'burstable']) await mkdir(join(memoryRoot, testRoot, dir));
    for (const pod of pods) {
      await mkdir(podDir(pod));
      await startProcess(pod, podDir(pod));
    }
  }, 60_000);

  afterAll(async () => {
    for (const name of [...processes.keys()]) await kill(name);
    await removeDir(join(memoryRoot, testRoot));
    await client.close();
    await server.close();
  });

  it('evicts exactly the BE pods the ranking picks, and never the LS pod', async () => {
    const layout = new CgroupLayout({
      cgroupRoot: '/sys/fs/cgroup',
      version: 'v1',
      driver: 'cgroupfs',
      kubepodsDir: testRoot,
    });
    const usage = new Map<string, number>();
    for (const pod of pods) usage.set(pod.name, await cgroupWorkingSet(nodeFs, podDir(pod), 'v1'));
    for (const pod of pods) expect(usage.get(pod.name)).toBeGreaterThanOrEqual(pod.mib * Mi);
    const treeWorkingSet = await cgroupWorkingSet(nodeFs, join(memoryRoot, testRoot), 'v1');
    // Target: all of be-big and half of be-mid. target = working set - lower% x capacity, so
    // capacity = (working set - target) x 100 / lower.
    const big = usage.get('be-big') ?? 0;
    const mid = usage.get('be-mid') ?? 0;
    const target = big + mid / 2;
    const lowerPercent = 68;
    const capacityBytes = Math.ceil(((treeWorkingSet - target) * 100) / lowerPercent);
    expect(treeWorkingSet).toBeGreaterThanOrEqual((capacityBytes * 70) / 100); // over the 70 % threshold

    let clock = 1_000_000;
    let nodePods = await listPods();
    const runner = new EvictionRunner({
      nodeName,
      client,
      fs: nodeFs,
      layout,
      procRoot: '/proc',
      pods: () => nodePods,
      beQuotaUs: () => undefined,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      nodeMemory: { dir: join(memoryRoot, testRoot), capacityBytes },
      now: () => clock,
    });
    const base = plan(nodeName, []).spec;
    const spec: PlanSpec = {
      ...base,
      eviction: planEviction({
        conditionTransitionSeconds: 0,
        // intervalSeconds 60: the test ticks by hand.
        memory: { enabled: true, lowerPercent, intervalSeconds: 60 },
      }),
    };
    runner.update(spec);
    try {
      const round = await runner.memoryTick();
      expect(round?.evicted.map(p => p.name)).toEqual(['be-big', 'be-mid']);
      expect(round?.refused).toEqual([]);
      const left = (await listPods()).map(p => p.metadata.name).sort();
      expect(left).toEqual(['be-small', 'ls-hog']);
      expect(processes.get('ls-hog')?.exitCode).toBeNull();
      const state = runner.state();
      expect(state.lastRound).toMatchObject({
        resource: 'memory',
        evicted: ['default/be-big', 'default/be-mid'],
        refused: [],
        thresholdPercent: 70,
      });
      const events = server.store.list('events', 'default') as {
        involvedObject: { kind: string; name: string };
        reason: string;
      }[];
      expect(events.map(e => `${e.involvedObject.kind}/${e.involvedObject.name}`).sort()).toEqual([
        'Node/kernel-node',
        'Pod/be-big',
        'Pod/be-mid',
      ]);

      // kubelet's part: the evicted pods' processes end and their memory is released.
      await kill('be-big');
      await kill('be-mid');
      nodePods = await listPods();
      clock += 30_000;
      const after = await runner.memoryTick();
      expect(after).toBeUndefined();
      expect(runner.state().memory?.over).toBe(false);
      expect((await listPods()).map(p => p.metadata.name).sort()).toEqual(['be-small', 'ls-hog']);
      const lsProcs = await readFile(join(podDir(pods[3]!), 'cgroup.procs'), 'utf8');
      expect(lsProcs.trim()).toBe(String(processes.get('ls-hog')?.pid));
    } finally {
      await runner.stop();
    }
  }, 60_000);
});
