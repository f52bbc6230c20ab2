// `nodeqos plan` shows what the cluster does: the controller's plan and the CLI's, from the very objects the API
// server holds (overlapping equal-priority policies, kubelet CPU annotations, a pod the schema rejects), are the
// same spec. Also: an unreadable pod gets an Event, a node whose capacity cannot be planned gets a policy condition
// and an Event and is not counted as governed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planSchema } from '../../src/api/plan.ts';
import { runController, type RunningController } from '../../src/controller/run-controller.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { policiesPath } from '../../src/kube/sources.ts';
import { kubeletReservedCpusAnnotation } from '../../src/plan/plan-node.ts';
import { runCli } from '../cli/run-cli.ts';
import { TestCluster } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';

let server: DevServer;
let cluster: TestCluster;
let controller: RunningController | undefined;

beforeEach(async () => {
  server = await startDevServer({ historyLimit: 200 });
  cluster = new TestCluster(server);
});

afterEach(async () => {
  await controller?.stop();
  controller = undefined;
  await server.close();
});

function start(): RunningController {
  controller = runController({
    kubeConfig: server.kubeConfig(),
    logger: pino({ level: 'silent' }),
    identity: 'parity',
    debounceMs: 20,
    stallMs: 5_000,
    leaderElection: undefined,
  });
  return controller;
}

async function seed(): Promise<void> {
  await cluster.http.request('POST', '/api/v1/nodes', {
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', labels: { zone: 'x' }, annotations: { [kubeletReservedCpusAnnotation]: '0' } },
      status: { capacity: { cpu: '8', memory: '32Gi' }, allocatable: { cpu: '7', memory: '30Gi' } },
    },
  });
  await cluster.policy('zeta', { priority: 5, nodeSelector: {} });
  await cluster.policy('alpha', {
    priority: 5,
    nodeSelector: { matchLabels: { zone: 'x' } },
    classes: { LS: { memory: { lowRatio: 0.5 } } },
  });
  await cluster.pod('lse', 'n1', { qos: 'LSE', cpu: '2' });
  await cluster.pod('ls', 'n1', { cpu: '500m' });
  await cluster.pod('be', 'n1', { qos: 'BE' });
  // 257 containers: past the schema's cap of 256, so only the conservative reading can plan it.
  await cluster.http.request('POST', '/api/v1/namespaces/default/pods', {
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'huge', namespace: 'default', labels: { 'nodeqos.io/qos-class': 'BE' } },
      spec: {
        nodeName: 'n1',
        containers: Array.from({ length: 257 }, (_, i) => ({ name: `c${i}`, image: 'x' })),
      },
    },
  });
}

describe('nodeqos plan = the controller', () => {
  it('gives the same spec from the objects the API server holds, overlaps and unreadable pods included', async () => {
    await seed();
    start();
    const plan = await eventually(async () => {
      const p = await cluster.plan('n1');
      expect(p?.spec.pods.map(x => x.name)).toEqual(['be', 'huge', 'ls', 'lse']);
      return p;
    });
    await controller?.controller.idle();
    const fromController = (await cluster.plan('n1'))?.spec;
    expect(plan?.spec.policyName).toBe('alpha');
    expect(fromController?.warnings[0]?.message).toBe(
      'policies zeta also match at priority 5; alpha wins by name',
    );

    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-parity-'));
    const list = async (path: string): Promise<unknown[]> =>
      (await cluster.http.request<{ items: unknown[] }>('GET', path)).items;
    const policies = (await list(policiesPath)).map(p => ({
      ...(p as object),
      apiVersion: 'nodeqos.io/v1alpha1',
      kind: 'NodeQoSPolicy',
    }));
    writeFileSync(join(dir, 'policies.json'), JSON.stringify({ kind: 'List', items: policies }));
    writeFileSync(
      join(dir, 'node.json'),
      JSON.stringify({ ...(await cluster.http.request<object>('GET', '/api/v1/nodes/n1')), kind: 'Node' }),
    );
    const pods = (await list('/api/v1/namespaces/default/pods')).map(p => ({
      ...(p as object),
      kind: 'Pod',
    }));
    writeFileSync(join(dir, 'pods.json'), JSON.stringify({ kind: 'List', items: pods }));
    const cli = runCli([
      'plan',
      '--policy',
      join(dir, 'policies.json'),
      '--node',
      join(dir, 'node.json'),
      '--pods',
      join(dir, 'pods.json'),
      '-o',
      'json',
    ]);
    expect(cli.code).toBe(0);
    // The overlap is reported, as `validate` does, but no longer refuses the preview.
    expect(cli.stderr).toContain('warning: ');
    expect(cli.stderr).toContain('can select the same nodes as NodeQoSPolicy/');
    expect(planSchema.parse(JSON.parse(cli.stdout)).spec).toEqual(fromController);
    expect(runCli(['validate', join(dir, 'policies.json')]).code).toBe(1);
  }, 60_000);

  it('an unreadable pod gets an Event; an unplannable node a policy condition and an Event, and is not governed', async () => {
    await seed();
    await cluster.node('broken', { zone: 'x' }, 'abc');
    start();
    const alpha = await eventually(async () => {
      const p = await cluster.getPolicy('alpha');
      expect(p.status?.conditions?.find(c => c.type === 'NodesPlannable')?.status).toBe('False');
      return p;
    });
    expect(alpha.status?.matchedNodes).toBe(1);
    const plannable = alpha.status?.conditions?.find(c => c.type === 'NodesPlannable');
    expect(plannable?.reason).toBe('InvalidNodeCapacity');
    expect(plannable?.message).toContain('node broken: status.capacity.cpu');
    expect(await cluster.plan('broken')).toBeUndefined();
    const events = await eventually(async () => {
      const items = (
        await cluster.http.request<{
          items: { reason: string; involvedObject: { kind: string; name: string } }[];
        }>('GET', '/api/v1/namespaces/default/events')
      ).items.map(e => `${e.involvedObject.kind}/${e.involvedObject.name}/${e.reason}`);
      expect(items).toEqual(
        expect.arrayContaining([
          'Pod/huge/PlannedConservatively',
          'Node/broken/NotPlannable',
          'NodeQoSPolicy/alpha/InvalidNodeCapacity',
        ]),
      );
      return items;
    });
    expect(events.filter(e => e === 'Pod/huge/PlannedConservatively')).toHaveLength(1);
  }, 60_000);
});
