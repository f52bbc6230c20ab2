// The plan as a table for people (`nodeqos plan -o table`).
import type { NodeIsolationPlan } from '../api/plan.ts';
import { evictionSettingsLines, lastEvictionLines } from './eviction-lines.ts';
import { formatBytes } from './format-bytes.ts';

export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map(r => (r[col] ?? '').length))) ?? [];
  return rows
    .map(r =>
      r
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function quota(us: number): string {
  return us < 0 ? 'unlimited' : String(us);
}

export function renderPlanTable(plan: NodeIsolationPlan): string {
  const s = plan.spec;
  const sup = s.cpuSuppress;
  const header = [
    `node ${s.nodeName}   policy ${s.policyName}   pods ${s.pods.length}`,
    `pools: LS ${s.pools.ls || '(empty)'}   BE ${s.pools.be || '(empty)'}`,
    `BE tier: base ${sup.baseMilliCPU}m, quota ${sup.floorQuotaUs}..${sup.ceilingQuotaUs} us per ${sup.cfsPeriodUs} us` +
      (sup.quotaAtPressure === undefined
        ? ''
        : `, at pressure ${sup.evaluatedPressure ?? ''}: ${sup.quotaAtPressure} us`) +
      `, cpu.idle ${sup.beIdle === true ? 'on' : 'off'}`,
    ...evictionSettingsLines(plan),
    ...lastEvictionLines(plan),
    '',
  ];
  const rows = [
    [
      'POD',
      'CLASS',
      'KUBE-QOS',
      'SHARES',
      'QUOTA',
      'CPUSET',
      'MEM-MIN',
      'MEM-LOW',
      'MEM-HIGH',
      'MEM-MAX',
      'OOM',
    ],
    ...s.pods.map(p => [
      `${p.namespace}/${p.name}`,
      p.qosClass,
      p.kubeQoS,
      String(p.cpu.shares),
      quota(p.cpu.cfsQuotaUs),
      `${p.cpu.cpuset}${p.cpu.pinned === 'shared' ? '' : ` (${p.cpu.pinned})`}`,
      formatBytes(p.memory.minBytes, '0'),
      formatBytes(p.memory.lowBytes, '0'),
      formatBytes(p.memory.highBytes),
      formatBytes(p.memory.maxBytes),
      String(p.oomScoreAdj),
    ]),
  ];
  const warnings = s.warnings.map(w => `warning: ${w.pod === undefined ? '' : `${w.pod}: `}${w.message}`);
  return [...header, renderTable(rows), ...(warnings.length ? ['', ...warnings] : [])].join('\n');
}
