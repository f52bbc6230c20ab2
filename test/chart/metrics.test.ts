// docs/metrics.md is the one list of metrics: it must match what the code registers, and the Grafana dashboard
// (charts/nodeqos/dashboards/nodeqos.json) may query only metrics and labels it lists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { ExecutorMetrics } from '../../src/agent/executor/metrics.ts';
import { createEvictionMetrics } from '../../src/agent/eviction/metrics.ts';
import { createSuppressMetrics } from '../../src/agent/suppress/metrics.ts';
import { controllerMetrics } from '../../src/controller/metrics.ts';
import { chartDir, repoRoot } from './helm.ts';

interface MetricDoc {
  name: string;
  type: string;
  labels: string[];
  component: 'agent' | 'controller';
}

function splitRow(line: string): string[] {
  return line
    .split('|')
    .slice(1, -1)
    .map(cell => cell.trim());
}

function documentedMetrics(): Map<string, MetricDoc> {
  const text = readFileSync(join(repoRoot, 'docs', 'metrics.md'), 'utf8');
  const metrics = new Map<string, MetricDoc>();
  for (const line of text.split('\n')) {
    const [name, type, labels, component] = splitRow(line);
    const metric = /^`(nodeqos_[a-z0-9_]+)`$/.exec(name ?? '')?.[1];
    if (metric === undefined) continue;
    if (component !== 'agent' && component !== 'controller')
      throw new Error(`${metric}: component ${component}`);
    const labelList = (labels ?? '')
      .split(',')
      .map(l => l.trim())
      .filter(l => l !== '');
    metrics.set(metric, { name: metric, type: type ?? '', labels: labelList.sort(), component });
  }
  return metrics;
}

const scrapeLabels: Record<MetricDoc['component'], Set<string>> = {
  agent: new Set(['node', 'instance', 'job', 'namespace', 'pod', 'service', 'endpoint', 'container']),
  controller: new Set(['instance', 'job', 'namespace', 'pod', 'service', 'endpoint', 'container']),
};

async function registeredMetrics(): Promise<MetricDoc[]> {
  const agent = new Registry();
  createSuppressMetrics(agent);
  createEvictionMetrics(agent);
  new ExecutorMetrics(agent);
  const controller = controllerMetrics().registry;
  const out: MetricDoc[] = [];
  for (const [component, registry] of [
    ['agent', agent],
    ['controller', controller],
  ] as const) {
    for (const metric of await registry.getMetricsAsJSON()) {
      const labelNames = (registry.getSingleMetric(metric.name) as unknown as { labelNames?: unknown })
        .labelNames;
      if (!Array.isArray(labelNames))
        throw new Error(`prom-client no longer exposes labelNames (${metric.name})`);
      out.push({
        name: metric.name,
        type: String(metric.type),
        labels: (labelNames as string[]).sort(),
        component,
      });
    }
  }
  return out;
}

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(join(chartDir, 'dashboards', 'nodeqos.json'), 'utf8')) as Dashboard;
const queries = [
  ...dashboard.panels.flatMap(p => (p.targets ?? []).map(t => ({ where: p.title, expr: t.expr }))),
  ...dashboard.templating.list
    .filter(v => v.definition !== undefined)
    .map(v => ({ where: `variable ${v.name}`, expr: v.definition ?? '' })),
];

/** The documented metric a queried series name belongs to (histograms expose _bucket, _sum and _count). */
function baseMetric(series: string, docs: ReadonlyMap<string, MetricDoc>): MetricDoc | undefined {
  const direct = docs.get(series);
  if (direct) return direct;
  const histogram = /^(.*)_(bucket|sum|count)$/.exec(series);
  const base = histogram ? docs.get(histogram[1] ?? '') : undefined;
  return base?.type === 'histogram' ? base : undefined;
}

/** Every problem with one PromQL expression: unknown metrics, and labels none of its metrics has. */
function queryProblems(expr: string, docs: ReadonlyMap<string, MetricDoc>): string[] {
  const problems: string[] = [];
  const used = [...expr.matchAll(/\bnodeqos_[a-z0-9_]+/g)].map(m => m[0]);
  const metrics = used.map(series => {
    const metric = baseMetric(series, docs);
    if (metric === undefined) problems.push(`${series} is not in docs/metrics.md`);
    return metric;
  });
  const known = new Set(['le']);
  for (const m of metrics) {
    if (m === undefined) continue;
    for (const l of [...m.labels, ...scrapeLabels[m.component]]) known.add(l);
  }
  const selectors = [...expr.matchAll(/\bnodeqos_[a-z0-9_]+\s*\{([^}]*)\}/g)].map(m => m[1] ?? '');
  const groupings = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].map(m => m[1] ?? '');
  const labels = [
    ...selectors.flatMap(s => [...s.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map(m => m[1] ?? '')),
    ...groupings.flatMap(g => g.split(',').map(l => l.trim())),
    ...[...expr.matchAll(/label_values\([^,]+,\s*(\w+)\)/g)].map(m => m[1] ?? ''),
  ];
  for (const label of labels)
    if (!known.has(label)) problems.push(`label ${label} is on none of ${used.join(', ')}`);
  return problems;
}

describe('docs/metrics.md', () => {
  test('lists exactly the metrics the controller and the agent register, with their types and labels', async () => {
    const docs = [...documentedMetrics().values()].sort((a, b) => a.name.localeCompare(b.name));
    const registered = (await registeredMetrics()).sort((a, b) => a.name.localeCompare(b.name));
    expect(docs.length).toBeGreaterThanOrEqual(20);
    expect(docs).toEqual(registered);
  });
});

describe('Grafana dashboard', () => {
  const docs = documentedMetrics();

  test('queries only documented metrics and their labels', () => {
    expect(queries.length).toBeGreaterThan(15);
    expect(queries.flatMap(q => queryProblems(q.expr, docs).map(p => `${q.where}: ${p}`))).toEqual([]);
  });

  test('shows every documented metric somewhere', () => {
    const queried = new Set(
      queries.flatMap(q =>
        [...q.expr.matchAll(/\bnodeqos_[a-z0-9_]+/g)].map(m => baseMetric(m[0], docs)?.name),
      ),
    );
    expect([...docs.keys()].filter(name => !queried.has(name))).toEqual([]);
  });

  test('the checks catch a renamed metric and a made-up label', () => {
    expect(queryProblems('rate(nodeqos_agent_apply_duration_seconds_bucket[5m])', docs)).toEqual([
      'nodeqos_agent_apply_duration_seconds_bucket is not in docs/metrics.md',
    ]);
    expect(queryProblems('sum by (cgroup) (nodeqos_pod_cpu_shares{qos="BE"})', docs)).toEqual([
      'label cgroup is on none of nodeqos_pod_cpu_shares',
    ]);
    expect(queryProblems('nodeqos_controller_leader{node="a"}', docs)).toEqual([
      'label node is on none of nodeqos_controller_leader',
    ]);
  });

  test('is a well-formed Grafana dashboard on the datasource variable', () => {
    expect(dashboard.uid).toBe('nodeqos');
    const ids = dashboard.panels.map(p => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter(p => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      const refIds = (panel.targets ?? []).map(t => t.refId);
      expect(refIds.length, panel.title).toBeGreaterThan(0);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
    expect(dashboard.templating.list.map(v => v.name)).toEqual(['datasource', 'node', 'namespace', 'qos']);
  });
});
