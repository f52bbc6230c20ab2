// Prometheus series of BE eviction, registered on the registry the agent passes in.
import type { Counter, Gauge, Registry } from 'prom-client';
import { counterOnce, gaugeOnce } from '../../observability/registered.ts';

export interface EvictionMetrics {
  readonly evictions: Counter<'reason'>;
  readonly refusals: Counter<'reason'>;
  readonly workingSet: Gauge;
  readonly workingSetPercent: Gauge;
  readonly cpuSatisfaction: Gauge;
  readonly sampleErrors: Counter<'signal'>;
}

export function createEvictionMetrics(registry: Registry): EvictionMetrics {
  return {
    evictions: counterOnce(registry, {
      name: 'nodeqos_agent_evictions_total',
      help: 'BE pods the API server let the agent evict, by reason (memory, cpu).',
      labelNames: ['reason'],
    }),
    refusals: counterOnce(registry, {
      name: 'nodeqos_agent_eviction_refusals_total',
      help: 'Evictions the API server refused (PodDisruptionBudget, errors), by reason (memory, cpu).',
      labelNames: ['reason'],
    }),
    workingSet: gaugeOnce(registry, {
      name: 'nodeqos_agent_memory_working_set_bytes',
      help: 'Node memory working set (usage - inactive file) last sampled for BE memory eviction.',
    }),
    workingSetPercent: gaugeOnce(registry, {
      name: 'nodeqos_agent_memory_working_set_percent',
      help: 'Node memory working set as a percent of node memory, last sampled for BE memory eviction.',
    }),
    cpuSatisfaction: gaugeOnce(registry, {
      name: 'nodeqos_agent_be_cpu_satisfaction_percent',
      help: 'BE tier real CPU limit over the CPU requests of BE pods (percent), last sampled for CPU eviction.',
    }),
    sampleErrors: counterOnce(registry, {
      name: 'nodeqos_agent_eviction_sample_errors_total',
      help: 'Eviction signal samples that could not be read, by signal (memory, cpu).',
      labelNames: ['signal'],
    }),
  };
}
