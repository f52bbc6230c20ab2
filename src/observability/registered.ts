// prom-client throws when a second metric with the same name is registered on a registry. The agent builds its
// executor and suppress loop again whenever a plan is deleted and re-created (or the agent is re-created in the
// same process), so every metric is looked up on its registry first and created only once per registry.
import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client';

type Unregistered<C> = Omit<C, 'registers'>;

export function counterOnce<L extends string>(
  registry: Registry,
  config: Unregistered<CounterConfiguration<L>>,
): Counter<L> {
  const existing = registry.getSingleMetric(config.name);
  return existing instanceof Counter ? existing : new Counter({ ...config, registers: [registry] });
}

export function gaugeOnce<L extends string>(
  registry: Registry,
  config: Unregistered<GaugeConfiguration<L>>,
): Gauge<L> {
  const existing = registry.getSingleMetric(config.name);
  return existing instanceof Gauge ? existing : new Gauge({ ...config, registers: [registry] });
}

export function histogramOnce<L extends string>(
  registry: Registry,
  config: Unregistered<HistogramConfiguration<L>>,
): Histogram<L> {
  const existing = registry.getSingleMetric(config.name);
  return existing instanceof Histogram ? existing : new Histogram({ ...config, registers: [registry] });
}
