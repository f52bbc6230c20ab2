// Prometheus series of the suppress loop, registered on the registry the agent passes in.
import type { Counter, Gauge, Registry } from 'prom-client';
import { counterOnce, gaugeOnce } from '../../observability/registered.ts';

export interface SuppressMetrics {
  readonly pressure: Gauge;
  readonly quota: Gauge;
  readonly ratio: Gauge;
  readonly writes: Counter;
  readonly writeErrors: Counter;
  readonly sampleErrors: Counter<'source'>;
}

export function createSuppressMetrics(registry: Registry): SuppressMetrics {
  return {
    pressure: gaugeOnce(registry, {
      name: 'nodeqos_agent_cpu_pressure_percent',
      help: 'Last node CPU pressure the BE suppress loop sampled (percent, 0-100).',
    }),
    quota: gaugeOnce(registry, {
      name: 'nodeqos_agent_be_quota_us',
      help: 'CFS quota of the BE tier last written by the suppress loop (microseconds per period; -1 unlimited).',
    }),
    ratio: gaugeOnce(registry, {
      name: 'nodeqos_agent_suppress_ratio',
      help: 'Share of the BE base the suppress curve allows at the last sampled pressure (0-1).',
    }),
    writes: counterOnce(registry, {
      name: 'nodeqos_agent_suppress_writes_total',
      help: 'BE tier quota writes that succeeded.',
    }),
    writeErrors: counterOnce(registry, {
      name: 'nodeqos_agent_suppress_write_errors_total',
      help: 'BE tier quota writes that failed.',
    }),
    sampleErrors: counterOnce(registry, {
      name: 'nodeqos_agent_suppress_sample_errors_total',
      help: 'Pressure samples that could not be read or parsed.',
      labelNames: ['source'],
    }),
  };
}
