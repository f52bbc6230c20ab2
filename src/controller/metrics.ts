// Controller metrics (prom-client, nodeqos_controller_*), on a registry of its own so two controllers can
// live in one process (tests, the demo).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ControllerMetrics {
  readonly registry: Registry;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly planWrites: Counter<'result'>;
  readonly informerRestarts: Counter<'resource'>;
  readonly leader: Gauge;
  readonly statusWrites: Counter;
  readonly topologyReplansDeferred: Counter;
}

export function controllerMetrics(registry = new Registry()): ControllerMetrics {
  const registers = [registry];
  return {
    registry,
    reconcileDuration: new Histogram({
      name: 'nodeqos_controller_reconcile_duration_seconds',
      help: 'Time to reconcile one node, by outcome.',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'nodeqos_controller_queue_depth',
      help: 'Keys waiting in the work queue.',
      registers,
    }),
    planWrites: new Counter({
      name: 'nodeqos_controller_plan_writes_total',
      help: 'Plan reconciles by result: written, skipped (unchanged), deleted, conflict (the stored plan was newer than the one it built on, or the pod cache was behind; retried), failed.',
      labelNames: ['result'],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'nodeqos_controller_informer_restarts_total',
      help: 'Informer restarts after errors, 410s or stalls, by resource.',
      labelNames: ['resource'],
      registers,
    }),
    leader: new Gauge({ name: 'nodeqos_controller_leader', help: '1 while this replica leads.', registers }),
    statusWrites: new Counter({
      name: 'nodeqos_controller_policy_status_writes_total',
      help: 'Policy status patches.',
      registers,
    }),
    topologyReplansDeferred: new Counter({
      name: 'nodeqos_controller_topology_replans_deferred_total',
      help: 'Topology reports that had to wait out the per-node re-plan interval before the plan used them.',
      registers,
    }),
  };
}
