// CPU-starvation eviction through the runner: the BE tier's cpu.stat on a cgroup v2 file tree, the quota the
// suppress loop holds, BE pods' CPU requests from the embedded API server, and the Eviction API.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupLayout } from '../../../src/agent/cgroup/layout.ts';
import { EvictionRunner } from '../../../src/agent/eviction/runner.ts';
import { nodeFs } from '../../../src/agent/fs.ts';
import type { Pod } from '../../../src/api/inputs.ts';
import type { PlanSpec } from '../../../src/api/plan.ts';
import { startDevServer, type DevServer } from '../../../src/devserver/index.ts';
import { LiteKubeClient } from '../../../src/kube/lite/client.ts';
import { liteClientFor } from '../../support/lite-client.ts';
import { transformPod } from '../../../src/kube/transforms.ts';
import { plan, planEviction } from '../helpers/plans.ts';

let server: DevServer;
let client: LiteKubeClient;
let root = '';

beforeEach(async () => {
  server = await startDevServer();
  client = liteClientFor(server);
  root = await mkdtemp(join(tmpdir(), 'nodeqos-cpu-evict-'));
  await mkdir(join(root, 'kubepods', 'besteffort'), { recursive: true });
});

afterEach(async () => {
  await client.close();
  await server.close();
  await rm(root, { recursive: true, force: true });
});

function seedPod(name: string, qos: string, cpu: string | undefined, priority?: number): void {
  server.store.create('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { 'nodeqos.io/qos-class': qos } },
    spec: {
      nodeName: 'n1',
      ...(priority === undefined ? {} : { priority }),
      containers: [
        { name: 'c', image: 'x', ...(cpu === undefined ? {} : { resources: { requests: { cpu } } }) },
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

async function listPods(): Promise<Pod[]> {
  const list = await client.listAll('/api/v1/pods');
  return list.items.flatMap(item => transformPod(item) ?? []);
}

describe('EvictionRunner, CPU starvation', () => {
  it('evicts the BE pods whose requests bring satisfaction back to the upper bound, once the window is covered', async () => {
    seedPod('be-large', 'BE', '1500m');
    seedPod('be-small', 'BE', '1000m');
    seedPod('be-guarded', 'BE', '3000m', 8000); // above the priority threshold
    seedPod('ls', 'LS', '4');
    let pods = await listPods();
    let clock = 0;
    let usageUs = 0;
    const cpuStat = join(root, 'kubepods', 'besteffort', 'cpu.stat');
    const runner = new EvictionRunner({
      nodeName: 'n1',
      client,
      fs: nodeFs,
      layout: new CgroupLayout({ cgroupRoot: root, version: 'v2', driver: 'cgroupfs' }),
      procRoot: join(root, 'proc'),
      pods: () => pods,
      beQuotaUs: () => 100_000, // the suppress loop holds the tier at 1 CPU per 100 ms
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      now: () => clock,
    });
    const base = plan('n1', []).spec;
    const spec: PlanSpec = {
      ...base,
      pools: { ls: '0-3', be: '0-3' },
      eviction: planEviction({
        conditionTransitionSeconds: 0,
        cpu: { enabled: true, windowSeconds: 10, coolDownSeconds: 1 },
      }),
    };
    runner.update(spec);
    try {
      // Real limit 1000m, BE requests 5500m (satisfaction 18 %), the tier uses 990m of its 1000m.
      const tick = async (): Promise<Awaited<ReturnType<EvictionRunner['cpuTick']>>> => {
        await writeFile(cpuStat, `usage_usec ${usageUs}\nuser_usec 0\nsystem_usec 0\n`);
        const result = await runner.cpuTick();
        clock += 1000;
        usageUs += 990_000;
        return result;
      };
      for (let second = 0; second < 11; second++) expect(await tick()).toBeUndefined();
      expect(runner.state().cpu).toMatchObject({ starvedNow: true, due: false });
      const round = await tick();
      // Keep 1000 / 0.8 = 1250m: release 5500 - 1250 = 4250m. be-guarded (3000m) is above the threshold but
      // still counts in the requests; of the others, be-large (1500m) then be-small (1000m): 2500m < 4250m.
      expect(round?.evicted.map(p => p.name)).toEqual(['be-large', 'be-small']);
      expect(runner.state().lastRound).toMatchObject({ resource: 'cpu', target: 4250, thresholdPercent: 60 });
      pods = await listPods();
      expect(pods.map(p => p.metadata.name).sort()).toEqual(['be-guarded', 'ls']);
      // The window starts again after a round: nothing more for a whole window.
      for (let second = 0; second < 5; second++) expect(await tick()).toBeUndefined();
    } finally {
      await runner.stop();
    }
  });
});
