// The chart's ValidatingAdmissionPolicies (templates/agent-admission-policy.yaml) on both API servers: requests
// sent with real ServiceAccount tokens of the agent. A token bound to a pod on node n1 (TokenRequest with
// boundObjectRef, as kubelet asks for the agent's token) makes the API server add the user info extra
// authentication.kubernetes.io/node-name=n1; the policies allow the agent its own node's plan status, Node
// conditions and evictions, and deny the same on n2, and deny everything to a token of the same ServiceAccount
// that carries no node.
// - real kube-apiserver: the chart installed with the real helm (RBAC included), the policies evaluated by it;
// - embedded dev server: the same chart's ServiceAccount and policies rendered by helm and created on it, the
//   policies evaluated by its own engine (src/devserver/admission-policy/). It does no RBAC (docs/devserver.md).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { NodeAgent } from '../../src/agent/apply-plan.ts';
import { NodeConditionsPublisher } from '../../src/agent/conditions/node-conditions.ts';
import { evictPod } from '../../src/agent/eviction/kube-calls.ts';
import type { EvictionState } from '../../src/agent/eviction/runner.ts';
import { AgentRuntime } from '../../src/agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../src/agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../src/agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../src/agent/suppress/samplers/select.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { createSimulatedNode } from '../../src/demo/simulated-node.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { LiteKubeClient } from '../../src/kube/lite/client.ts';
import { loadConnection } from '../../src/kube/lite/config.ts';
import { planSource, podSource } from '../../src/kube/sources.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChartTools } from '../../scripts/chart-tools.ts';
import { kubeWriter } from '../../src/kube/writers.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { run, type RunResult } from '../chart/helm.ts';
import { planEviction } from '../agent/helpers/plans.ts';
import { policy as examplePolicy } from '../plan/fixtures.ts';
import { apiServers, useRealApiserver, type ApiServerKind } from '../support/api-servers.ts';
import { TestCluster } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';
import { RawClient, type RawResponse } from '../support/raw-client.ts';
import { repoRoot } from '../support/real-apiserver.ts';

const namespace = 'nodeqos-system';
const agentSA = 'nodeqos-agent';
const workNs = 'work';
const plans = '/apis/nodeqos.io/v1alpha1/nodeisolationplans';
const nodeNameExtra = 'authentication.kubernetes.io/node-name';
const noNodeMessage = /must carry the node name of a pod-bound token/;
const logger = pino({ level: 'silent' });

interface Status {
  message?: string;
  metadata?: { uid?: string };
  status?: { token?: string; userInfo?: { extra?: Record<string, string[]> } };
}

/** The server of one variant: the real one shared by the file, or an embedded one started for this suite. */
function useServer(kind: ApiServerKind): () => { kubeConfig(): KubeConfig; kubeconfigPath: string } {
  if (kind === 'real') return useRealApiserver();
  let dev: DevServer | undefined;
  let kubeconfigPath = '';
  beforeAll(async () => {
    dev = await startDevServer();
    kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'nodeqos-admission-kc-')), 'kubeconfig');
    await dev.writeKubeconfig(kubeconfigPath);
  });
  afterAll(async () => {
    await dev?.close();
  });
  return () => {
    if (dev === undefined) throw new Error('the embedded server is not running');
    const server = dev;
    return { kubeConfig: () => server.kubeConfig(), kubeconfigPath };
  };
}

describe.each(apiServers)('agent admission policies ($name API server)', ({ name: kind }) => {
  const api = useServer(kind);
  const tools = ensureChartTools();
  let admin: RawClient;
  /** The agent on n1: a token bound to its pod. */
  let agent: RawClient;
  /** The same ServiceAccount, a token bound to nothing: no node name. */
  let unbound: RawClient;
  let agentToken = '';

  const ok = (result: RunResult): string => {
    expect(result.stderr.replace(/^Warning: .*\n?/gm, ''), result.stderr).toBe('');
    expect(result.code).toBe(0);
    return result.stdout;
  };

  async function created(path: string, body: unknown): Promise<Status> {
    const response = await admin.request('POST', path, { body });
    expect(response.status, response.text).toBe(201);
    return response.json as Status;
  }

  /** A client for `token` against the same server and CA as the admin kubeconfig. */
  function clientFor(token: string): RawClient {
    return new RawClient(kubeConfigFor(token));
  }

  function kubeConfigFor(token: string): KubeConfig {
    const base = api().kubeConfig().getCurrentCluster();
    if (base === null) throw new Error('no cluster');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [base],
      users: [{ name: 'agent', token }],
      contexts: [{ name: 'agent', cluster: base.name, user: 'agent' }],
      currentContext: 'agent',
    });
    return kc;
  }

  async function token(boundTo?: { name: string; uid: string }): Promise<string> {
    const request = await created(`/api/v1/namespaces/${namespace}/serviceaccounts/${agentSA}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        expirationSeconds: 3600,
        ...(boundTo ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', ...boundTo } } : {}),
      },
    });
    return request.status?.token ?? '';
  }

  const node = (name: string): unknown => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: '2026-01-01T00:00:00Z',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  });
  const pod = (name: string, ns: string, nodeName: string, serviceAccountName?: string): unknown => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      nodeName,
      ...(serviceAccountName ? { serviceAccountName } : {}),
      containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }],
    },
  });

  /** The real server gets the whole chart from helm; the embedded one its ServiceAccounts and policies. */
  async function installChart(): Promise<void> {
    const values = ['--namespace', namespace, '--set', 'agent.bePressureTaint=true'];
    if (kind === 'real') {
      const kubeconfig = ['--kubeconfig', api().kubeconfigPath];
      ok(
        run(
          tools.helm,
          [...kubeconfig, 'install', 'nodeqos', 'charts/nodeqos', '--create-namespace', ...values],
          repoRoot,
        ),
      );
      return;
    }
    const shown = ['templates/serviceaccounts.yaml', 'templates/agent-admission-policy.yaml'];
    const rendered = ok(
      run(
        tools.helm,
        ['template', 'nodeqos', 'charts/nodeqos', ...values, ...shown.flatMap(t => ['--show-only', t])],
        repoRoot,
      ),
    );
    await created('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    });
    const paths: Record<string, string> = {
      ServiceAccount: `/api/v1/namespaces/${namespace}/serviceaccounts`,
      ValidatingAdmissionPolicy: '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies',
      ValidatingAdmissionPolicyBinding:
        '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
    };
    const documents = parseAllDocuments(rendered).map(d => d.toJS() as { kind: string } | null);
    for (const document of documents) {
      if (document === null) continue;
      const path = paths[document.kind];
      if (path === undefined) throw new Error(`unexpected ${document.kind} in the rendered templates`);
      await created(path, document);
    }
    expect(documents.filter(d => d?.kind === 'ValidatingAdmissionPolicy')).toHaveLength(3);
  }

  beforeAll(async () => {
    admin = new RawClient(api().kubeConfig());
    await installChart();
    await created('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: workNs } });
    for (const name of ['n1', 'n2']) {
      await created('/api/v1/nodes', node(name));
      const plan = planNode({
        policy: examplePolicy(),
        node: node(name) as Parameters<typeof planNode>[0]['node'],
        pods: [],
      });
      await kubeWriter(new TestCluster(api().kubeConfig()).http).applyPlan(plan);
      await created(`/api/v1/namespaces/${workNs}/pods`, pod(`be-${name}`, workNs, name));
    }
    const agentPod = await created(
      `/api/v1/namespaces/${namespace}/pods`,
      pod('nodeqos-agent-n1', namespace, 'n1', agentSA),
    );
    agentToken = await token({ name: 'nodeqos-agent-n1', uid: agentPod.metadata?.uid ?? '' });
    agent = clientFor(agentToken);
    unbound = clientFor(await token());
  }, 120_000);

  afterAll(async () => {
    await admin.request('DELETE', `/api/v1/namespaces/${workNs}`);
  });

  const patchPlanStatus = (client: RawClient, name: string): Promise<RawResponse> =>
    client.request('PATCH', `${plans}/${name}/status`, {
      body: { status: { pressure: 1 } },
      contentType: 'application/merge-patch+json',
    });
  const patchNodeStatus = (client: RawClient, name: string, status: unknown): Promise<RawResponse> =>
    client.request('PATCH', `/api/v1/nodes/${name}/status`, {
      body: { status },
      contentType: 'application/strategic-merge-patch+json',
    });
  const ourCondition = {
    conditions: [
      {
        type: 'NodeQoSApplied',
        status: 'True',
        reason: 'PlanApplied',
        message: 'plan applied',
        lastHeartbeatTime: '2026-01-01T00:00:00Z',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  };
  const evict = (client: RawClient, name: string, dryRun: boolean): Promise<RawResponse> =>
    client.request(
      'POST',
      `/api/v1/namespaces/${workNs}/pods/${name}/eviction${dryRun ? '?dryRun=All' : ''}`,
      {
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: workNs } },
      },
    );
  const message = (response: RawResponse): string => (response.json as Status).message ?? response.text;

  it('a token bound to the agent pod on n1 carries node-name n1; one bound to nothing carries none', async () => {
    const review = async (client: RawClient): Promise<Record<string, string[]>> => {
      const response = await client.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      expect(response.status, response.text).toBe(201);
      return (response.json as Status).status?.userInfo?.extra ?? {};
    };
    expect((await review(agent))[nodeNameExtra]).toEqual(['n1']);
    expect((await review(unbound))[nodeNameExtra]).toBeUndefined();
  });

  it('plan status: allowed on its own node, denied on another node and without a node name', async () => {
    // Policies take effect a moment after they are created: wait for the first denial.
    await eventually(async () => expect((await patchPlanStatus(agent, 'n2')).status).toBe(403), 30_000);
    const own = await patchPlanStatus(agent, 'n1');
    expect(own.status, own.text).toBe(200);
    const other = await patchPlanStatus(agent, 'n2');
    expect(other.status).toBe(403);
    // The whole message, the same on both servers.
    expect(message(other)).toBe(
      `nodeisolationplans.nodeqos.io "n2" is forbidden: ValidatingAdmissionPolicy 'nodeqos-agent-plan-status' with binding 'nodeqos-agent-plan-status' denied request: the nodeqos agent on node n1 may write only the status of NodeIsolationPlan n1, not UPDATE nodeisolationplans/status n2`,
    );
    expect((other.json as { reason?: string }).reason).toBe('Forbidden');
    // Issue 14's attack: another node's topology, as a merge patch.
    const topology = await agent.request('PATCH', `${plans}/n2/status`, {
      body: { status: { topology: { cpus: [{ id: 100, core: 0, socket: 0, numa: 0 }] } } },
      contentType: 'application/merge-patch+json',
    });
    expect(topology.status).toBe(403);
    const noNode = await patchPlanStatus(unbound, 'n1');
    expect(noNode.status).toBe(403);
    expect(message(noNode)).toMatch(noNodeMessage);
  });

  it("Node status: its own node's nodeqos conditions only; another node, kubelet's fields and no node name are denied", async () => {
    await eventually(
      async () => expect((await patchNodeStatus(agent, 'n2', ourCondition)).status).toBe(403),
      30_000,
    );
    const own = await patchNodeStatus(agent, 'n1', ourCondition);
    expect(own.status, own.text).toBe(200);
    const other = await patchNodeStatus(agent, 'n2', ourCondition);
    expect(message(other)).toMatch(
      /the nodeqos agent on node n1 may write only Node n1 .*not UPDATE nodes\/status n2/,
    );
    const capacity = await patchNodeStatus(agent, 'n1', { capacity: { cpu: '64' } });
    expect(capacity.status).toBe(403);
    expect(message(capacity)).toMatch(
      /may change only the conditions NodeQoSApplied, BEMemoryPressure and BECPUStarved/,
    );
    const ready = await patchNodeStatus(agent, 'n1', {
      conditions: [{ type: 'Ready', status: 'False', reason: 'Forged', message: 'x' }],
    });
    expect(ready.status).toBe(403);
    const noNode = await patchNodeStatus(unbound, 'n1', ourCondition);
    expect(noNode.status).toBe(403);
    expect(message(noNode)).toMatch(noNodeMessage);
  });

  it('Node itself: only the BE pressure taint of its own node; other taints, labels, another node and no node name are denied', async () => {
    const patchNode = (client: RawClient, name: string, body: unknown): Promise<RawResponse> =>
      client.request('PATCH', `/api/v1/nodes/${name}`, {
        body,
        contentType: 'application/merge-patch+json',
      });
    const ours = { key: 'nodeqos.io/be-pressure', effect: 'NoSchedule' };
    // A merge patch replaces the whole list, so the agent (like this test) sends the taints it read plus or minus
    // its own: the server's TaintNodesByCondition admission gave the new Nodes a not-ready taint.
    const taintsOf = async (name: string): Promise<unknown[]> => {
      const read = await admin.request('GET', `/api/v1/nodes/${name}`);
      return (read.json as { spec?: { taints?: unknown[] } }).spec?.taints ?? [];
    };
    const before = await taintsOf('n1');
    await eventually(
      async () =>
        expect((await patchNode(agent, 'n2', { spec: { taints: [...before, ours] } })).status).toBe(403),
      30_000,
    );
    const own = await patchNode(agent, 'n1', { spec: { taints: [...before, ours] } });
    expect(own.status, own.text).toBe(200);
    expect(await taintsOf('n1')).toContainEqual(ours);
    const other = await patchNode(agent, 'n2', { spec: { taints: [...before, ours] } });
    expect(message(other)).toMatch(/may write only Node n1 .*not UPDATE nodes n2/);
    const foreign = await patchNode(agent, 'n1', {
      spec: { taints: [...before, ours, { key: 'example.com/other', effect: 'NoExecute' }] },
    });
    expect(foreign.status).toBe(403);
    expect(message(foreign)).toMatch(
      /may change only the nodeqos.io\/be-pressure:NoSchedule taint .*no other taint/,
    );
    const dropped = await patchNode(agent, 'n1', { spec: { taints: [ours] } });
    expect(before.length === 0 || dropped.status === 403).toBe(true);
    const wrongEffect = await patchNode(agent, 'n1', {
      spec: { taints: [...before, { ...ours, effect: 'NoExecute' }] },
    });
    expect(wrongEffect.status).toBe(403);
    const label = await patchNode(agent, 'n1', { metadata: { labels: { role: 'forged' } } });
    expect(message(label)).toMatch(/not its labels or annotations/);
    const cordon = await patchNode(agent, 'n1', { spec: { unschedulable: true } });
    expect(message(cordon)).toMatch(/nothing else of its spec/);
    const noNode = await patchNode(unbound, 'n1', { spec: { taints: before } });
    expect(noNode.status).toBe(403);
    const removed = await patchNode(agent, 'n1', { spec: { taints: before } });
    expect(removed.status, removed.text).toBe(200);
    expect(await taintsOf('n1')).toEqual(before);
  });

  it('eviction: a pod bound to its own node is evicted; one on another node and any without a node name are denied', async () => {
    await eventually(async () => expect((await evict(agent, 'be-n2', true)).status).toBe(403), 30_000);
    const other = await evict(agent, 'be-n2', false);
    expect(other.status).toBe(403);
    expect(message(other)).toMatch(
      /the nodeqos agent on node n1 may evict only pods bound to it; pod work\/be-n2 is on node n2/,
    );
    const noNode = await evict(unbound, 'be-n1', false);
    expect(noNode.status).toBe(403);
    expect(message(noNode)).toMatch(noNodeMessage);
    const own = await evict(agent, 'be-n1', false);
    expect(own.status, own.text).toBe(201);
    // The eviction deleted the pod: gone, or (real server, graceful, no kubelet to confirm it) terminating.
    const evicted = await admin.request('GET', `/api/v1/namespaces/${workNs}/pods/be-n1`);
    expect(
      evicted.status === 404 ||
        (evicted.json as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp !==
          undefined,
      evicted.text,
    ).toBe(true);
    const untouched = await admin.request('GET', `/api/v1/namespaces/${workNs}/pods/be-n2`);
    expect(
      (untouched.json as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp,
    ).toBeUndefined();
  });

  it('the real agent runtime with its pod-bound token reports its own plan status; aimed at n2 its writes are refused', async () => {
    const http = new KubeHttp(kubeConfigFor(agentToken));
    const sim = await createSimulatedNode(mkdtempSync(join(tmpdir(), 'nodeqos-admission-')), 4);
    const runtimes: AgentRuntime[] = [];
    try {
      for (const nodeName of ['n1', 'n2']) {
        mkdirSync(join(sim.stateDir, nodeName));
        const runtime = new AgentRuntime({
          agent: await NodeAgent.create({
            nodeName,
            ...sim.agentRoots,
            stateDir: join(sim.stateDir, nodeName),
            logger,
          }),
          cache: new PlanCache(join(sim.stateDir, nodeName)),
          logger,
          registry: new Registry(),
          samplerFor: createSamplerSelector({ procRoot: sim.procRoot, fixedPressure: 50 }),
          kube: {
            planSource: planSource(http, nodeName),
            podSource: podSource(http, nodeName),
            writeStatus: planStatusWriter(http, nodeName),
          },
          resyncMs: 200,
          statusIntervalMs: 200,
        });
        runtimes.push(runtime);
        await runtime.start();
      }
      const status = async (name: string): Promise<NodeIsolationPlan['status']> =>
        ((await admin.request('GET', `${plans}/${name}`)).json as NodeIsolationPlan).status;
      const own = await eventually(async () => {
        const s = await status('n1');
        expect(s?.conditions?.find(c => c.type === 'Applied')?.status).toBe('True');
        return s;
      }, 30_000);
      expect(own?.topology?.cpus).toHaveLength(4);
      // The runtime "on n2" holds n1's token: it reads n2's plan (RBAC allows reads) but every status write is
      // denied, so after the n1 runtime has reported several times, n2's plan still has no Applied condition.
      await new Promise(resolve => setTimeout(resolve, 1000));
      expect((await status('n2'))?.conditions?.find(c => c.type === 'Applied')).toBeUndefined();
    } finally {
      for (const runtime of runtimes) await runtime.stop();
    }
  }, 60_000);

  it("the agent's own code for Node conditions, the BE pressure taint and evictions passes on n1 and is refused on n2", async () => {
    // The lite client the agent runs on, from a kubeconfig holding the pod-bound token.
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'nodeqos-admission-agent-')), 'kubeconfig');
    writeFileSync(kubeconfig, kubeConfigFor(agentToken).exportConfig());
    const client = new LiteKubeClient(loadConnection({ kubeconfig }));
    interface NodeView {
      spec?: { taints?: { key: string }[] };
      status?: { conditions?: { type: string; status: string }[] };
    }
    const read = async (name: string): Promise<NodeView> =>
      (await admin.request('GET', `/api/v1/nodes/${name}`)).json as NodeView;
    const pressured = (node: NodeView): boolean =>
      node.status?.conditions?.some(c => c.type === 'BEMemoryPressure' && c.status === 'True') === true;
    const tainted = (node: NodeView): boolean =>
      node.spec?.taints?.some(t => t.key === 'nodeqos.io/be-pressure') === true;
    try {
      const settings = {
        ...planEviction({ conditionTransitionSeconds: 0, memory: { enabled: true } }),
        taint: true,
      };
      const pressure: EvictionState = {
        memory: { percent: 75, thresholdBytes: 70, lowerBytes: 68, over: true, targetBytes: 7 },
        cpu: undefined,
        lastRound: undefined,
      };
      const publishOn = (nodeName: string): Promise<boolean> =>
        new NodeConditionsPublisher({ client, nodeName, logger }).publish(
          { planStatus: undefined, eviction: pressure, settings },
          Date.now(),
        );
      expect(await publishOn('n1')).toBe(true);
      const n1 = await read('n1');
      expect(pressured(n1)).toBe(true);
      expect(tainted(n1)).toBe(true);
      expect(await publishOn('n2')).toBe(false);
      const n2 = await read('n2');
      expect(pressured(n2)).toBe(false);
      expect(tainted(n2)).toBe(false);

      const victims: Record<string, string> = {};
      for (const nodeName of ['n1', 'n2']) {
        const made = await created(
          `/api/v1/namespaces/${workNs}/pods`,
          pod(`be2-${nodeName}`, workNs, nodeName),
        );
        victims[nodeName] = made.metadata?.uid ?? '';
      }
      const evictOn = (nodeName: string): ReturnType<typeof evictPod> =>
        evictPod(client, { namespace: workNs, name: `be2-${nodeName}`, uid: victims[nodeName] ?? '' });
      expect(await evictOn('n1')).toEqual({ kind: 'evicted' });
      const refused = await evictOn('n2');
      expect(refused.kind).toBe('failed');
      expect(refused.kind === 'failed' ? refused.reason : '').toMatch(
        /HTTP 403: .*may evict only pods bound to it/,
      );
    } finally {
      await client.close();
    }
  });
});
