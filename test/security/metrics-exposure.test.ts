// /metrics is unauthenticated inside the cluster: it must not carry object contents. After a realistic run (API
// server, controller, one agent on a simulated node, pods whose annotations, labels, env, images and container
// names hold marker strings), both endpoints are scraped over HTTP and every series is checked: label names from
// an allowlist, label values from closed sets or the pods' namespace/name, numeric values, no marker anywhere.
import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../src/agent/apply-plan.ts';
import { AgentRuntime } from '../../src/agent/runtime/agent-runtime.ts';
import { PlanCache } from '../../src/agent/runtime/plan-cache.ts';
import { planStatusWriter } from '../../src/agent/runtime/status-writer.ts';
import { createSamplerSelector } from '../../src/agent/suppress/samplers/select.ts';
import type { KubeQoS } from '../../src/api/group.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { runController, type RunningController } from '../../src/controller/run-controller.ts';
import { createSimulatedNode, type SimulatedNode } from '../../src/demo/simulated-node.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { agentPlanSource, plansPath, podSource, policiesPath } from '../../src/kube/sources.ts';
import { startMetricsServer, type MetricsServer } from '../../src/observability/metrics-server.ts';
import { eventually } from '../support/eventually.ts';

const logger = pino({ level: 'silent' });
/** Planted in every free-text field of the objects; must never appear on /metrics. */
const marker = 'SECRETMARKER';

interface TestPod {
  readonly namespace: string;
  readonly name: string;
  readonly qos: string;
  readonly cpu: string | undefined;
  readonly cpuLimit: string | undefined;
  readonly kubeQoS: KubeQoS;
}

const pods: readonly TestPod[] = [
  { namespace: 'payments', name: 'ledger-0', qos: 'LSE', cpu: '1', cpuLimit: '1', kubeQoS: 'Guaranteed' },
  { namespace: 'web', name: 'frontend-7d9f', qos: 'LS', cpu: '500m', cpuLimit: '2', kubeQoS: 'Burstable' },
  {
    namespace: 'batch',
    name: 'etl-nightly',
    qos: 'BE',
    cpu: undefined,
    cpuLimit: undefined,
    kubeQoS: 'BestEffort',
  },
];

/** Every label a nodeqos metric may carry, and where its values may come from. */
const labelValues: Record<string, (value: string) => boolean> = {
  qos: v => ['LSE', 'LSR', 'LS', 'BE'].includes(v),
  namespace: v => pods.some(p => p.namespace === v),
  pod: v => pods.some(p => p.name === v),
  knob: v =>
    /^(cpu|cpuset|memory|io|blkio)\.[a-z_.]+$/.test(v) ||
    ['oom_score_adj', 'min', 'low', 'high', 'max'].includes(v),
  errno: v => /^E[A-Z0-9]+$/.test(v) || v === 'UNKNOWN',
  result: v => ['written', 'unchanged', 'skipped', 'deleted', 'absent', 'failed'].includes(v),
  resource: v => ['pods', 'nodes', 'nodeqospolicies', 'nodeisolationplans', 'leases'].includes(v),
  operation: v => ['apply', 'be_tier', 'restore'].includes(v),
  source: v => ['utilization', 'psi'].includes(v),
  node: v => v === 'node-a',
  le: v => v === '+Inf' || Number.isFinite(Number(v)),
  quantile: v => Number.isFinite(Number(v)),
};

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: string;
}

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** `a="b",c="d"` into a record; undefined when the text is not exactly that. */
function parseLabels(body: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  let consumed = 0;
  for (let m = pair.exec(body); m; m = pair.exec(body)) {
    labels[m[1] ?? ''] = unescape(m[2] ?? '');
    consumed = pair.lastIndex;
  }
  return consumed === body.length ? labels : undefined;
}

/** Prometheus text exposition 0.0.4: `name{a="b",...} value`. */
function parseExposition(text: string): { samples: Sample[]; unparsed: string[] } {
  const samples: Sample[] = [];
  const unparsed: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    const labels = match ? parseLabels(match[2] ?? '') : undefined;
    if (!match || labels === undefined) unparsed.push(line);
    else samples.push({ name: match[1] ?? '', labels, value: match[3] ?? '' });
  }
  return { samples, unparsed };
}

function problems(text: string): string[] {
  const { samples, unparsed } = parseExposition(text);
  const out = unparsed.map(line => `unparsed line: ${line.slice(0, 120)}`);
  for (const sample of samples) {
    if (!sample.name.startsWith('nodeqos_')) out.push(`${sample.name}: not a nodeqos_ metric`);
    if (Number.isNaN(Number(sample.value))) out.push(`${sample.name}: value ${sample.value} is not a number`);
    for (const [label, value] of Object.entries(sample.labels)) {
      const allowed = Object.hasOwn(labelValues, label) ? labelValues[label] : undefined;
      if (allowed === undefined) out.push(`${sample.name}: label ${label} is not on the allowlist`);
      else if (!allowed(value))
        out.push(`${sample.name}: ${label}="${value.slice(0, 80)}" is not an allowed value`);
    }
  }
  if (text.includes(marker)) out.push(`the text holds ${marker}`);
  return out;
}

let server: DevServer;
let controller: RunningController;
let runtime: AgentRuntime;
let sim: SimulatedNode;
let dir = '';
const metricServers: MetricsServer[] = [];
let agentRegistry: Registry;

async function seed(http: KubeHttp): Promise<string[]> {
  await http.request('POST', '/api/v1/nodes', {
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: 'node-a',
        labels: { pool: 'mixed' },
        annotations: { note: `${marker}-node-annotation` },
      },
      status: { capacity: { cpu: '4', memory: '16Gi' }, allocatable: { cpu: '4', memory: '16Gi' } },
    },
  });
  await http.request('POST', policiesPath, {
    body: {
      apiVersion: 'nodeqos.io/v1alpha1',
      kind: 'NodeQoSPolicy',
      metadata: { name: 'mixed', annotations: { owner: `${marker}-policy-annotation` } },
      spec: { nodeSelector: { matchLabels: { pool: 'mixed' } } },
    },
  });
  const uids: string[] = [];
  for (const pod of pods) {
    const resources =
      pod.cpu === undefined
        ? {}
        : {
            requests: { cpu: pod.cpu, memory: '256Mi' },
            limits: { cpu: pod.cpuLimit ?? pod.cpu, memory: '256Mi' },
          };
    const created = await http.request<{ metadata: { uid: string } }>(
      'POST',
      `/api/v1/namespaces/${pod.namespace}/pods`,
      {
        body: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: pod.name,
            namespace: pod.namespace,
            labels: { 'nodeqos.io/qos-class': pod.qos, team: `${marker}-label` },
            annotations: { 'vault.example/token': `${marker}-annotation`, 'nodeqos.io/numa-node': '0' },
          },
          spec: {
            nodeName: 'node-a',
            containers: [
              {
                name: `app-${marker.toLowerCase()}`,
                image: `registry.example/${marker.toLowerCase()}:v1`,
                env: [{ name: 'PASSWORD', value: `${marker}-env` }],
                resources,
              },
            ],
          },
        },
      },
    );
    uids.push(created.metadata.uid);
  }
  return uids;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nodeqos-metrics-'));
  server = await startDevServer({ logger });
  const http = new KubeHttp(server.kubeConfig());
  const uids = await seed(http);
  controller = runController({
    kubeConfig: server.kubeConfig(),
    logger,
    identity: 'metrics-test',
    debounceMs: 20,
  });
  sim = await createSimulatedNode(join(dir, 'node-a'), 4);
  await sim.setPressure(60);
  for (const [i, pod] of pods.entries())
    await sim.addPod({
      uid: uids[i] ?? '',
      kubeQoS: pod.kubeQoS,
      containers: [`app-${marker.toLowerCase()}`],
    });
  // One knob the kernel refuses (a directory where memory.high should be: EISDIR), so errno labels appear too.
  const broken = join(sim.cgroupRoot, 'kubepods', 'burstable', `pod${uids[1] ?? ''}`, 'memory.high');
  await unlink(broken);
  await mkdir(broken);
  agentRegistry = new Registry();
  const agent = await NodeAgent.create({
    nodeName: 'node-a',
    ...sim.agentRoots,
    registry: agentRegistry,
    logger,
  });
  const agentHttp = new KubeHttp(server.kubeConfig());
  runtime = new AgentRuntime({
    agent,
    cache: new PlanCache(sim.stateDir),
    logger,
    registry: agentRegistry,
    samplerFor: createSamplerSelector({ procRoot: sim.procRoot }),
    kube: {
      planSource: agentPlanSource(agentHttp, 'node-a'),
      podSource: podSource(agentHttp, 'node-a'),
      writeStatus: planStatusWriter(agentHttp, 'node-a'),
    },
    resyncMs: 500,
    statusIntervalMs: 200,
  });
  await runtime.start();
  await eventually(async () => {
    const plan = await http.request<NodeIsolationPlan>('GET', `${plansPath}/node-a`);
    expect(plan.spec.pods).toHaveLength(pods.length);
    expect(plan.status?.appliedGeneration).toBe(plan.metadata.generation);
  }, 20_000);
  // A few suppress-loop samples, so the pressure and quota series exist.
  await eventually(async () => {
    await sim.advanceStat(100);
    const metrics = await agentRegistry.getSingleMetricAsString('nodeqos_agent_cpu_pressure_percent');
    expect(metrics).toMatch(/^nodeqos_agent_cpu_pressure_percent \d/m);
  }, 20_000);
}, 60_000);

afterAll(async () => {
  for (const m of metricServers) await m.close();
  await runtime.stop();
  await controller.stop();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function scrape(registry: Registry): Promise<string> {
  const metrics = await startMetricsServer({
    registries: [registry],
    port: 0,
    ready: () => true,
    host: '127.0.0.1',
  });
  metricServers.push(metrics);
  const response = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

describe('/metrics after a realistic run', () => {
  it('agent: labels from the allowlist, values numbers, pod identity only as namespace and name', async () => {
    const text = await scrape(agentRegistry);
    expect(problems(text)).toEqual([]);
    const { samples } = parseExposition(text);
    // The checks saw real series: per-pod gauges for every pod, and an errno from the refused knob.
    const podsSeen = new Set(
      samples
        .filter(s => s.name.startsWith('nodeqos_pod_'))
        .map(s => `${s.labels.namespace}/${s.labels.pod}`),
    );
    expect([...podsSeen].sort()).toEqual(pods.map(p => `${p.namespace}/${p.name}`).sort());
    expect(
      samples.some(s => s.name === 'nodeqos_cgroup_write_errors_total' && s.labels.errno === 'EISDIR'),
    ).toBe(true);
  });

  it('controller: labels from the allowlist, values numbers, nothing from object text', async () => {
    const text = await scrape(controller.metrics.registry);
    expect(problems(text)).toEqual([]);
    expect(parseExposition(text).samples.some(s => s.name === 'nodeqos_controller_plan_writes_total')).toBe(
      true,
    );
  });

  it('the checks fail on a label outside the allowlist, an annotation value, or a non-numeric value', () => {
    const leaky = [
      'nodeqos_pod_cpu_shares{qos="LS",namespace="web",pod="frontend-7d9f",annotation="x"} 2',
      `nodeqos_pod_cpu_shares{qos="LS",namespace="web",pod="${marker}"} 2`,
      'nodeqos_pod_cpu_shares{qos="LS",namespace="web",pod="frontend-7d9f"} abc',
    ].join('\n');
    expect(problems(leaky)).toEqual([
      'nodeqos_pod_cpu_shares: label annotation is not on the allowlist',
      `nodeqos_pod_cpu_shares: pod="${marker}" is not an allowed value`,
      'nodeqos_pod_cpu_shares: value abc is not a number',
      `the text holds ${marker}`,
    ]);
  });
});
