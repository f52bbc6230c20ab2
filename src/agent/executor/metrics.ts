// Executor metrics (prom-client, nodeqos_ prefix) on a registry the agent passes in.
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { counterOnce, gaugeOnce, histogramOnce } from '../../observability/registered.ts';
import type { AppliedValues } from '../mechanisms/core/applied.ts';

export type { AppliedValues };

export interface PodLabels {
  readonly qos: string;
  readonly namespace: string;
  readonly pod: string;
}

type PodGauge = Gauge<'qos' | 'namespace' | 'pod'>;

export class ExecutorMetrics {
  readonly writes: Counter<'knob'>;
  readonly writeErrors: Counter<'knob' | 'errno'>;
  readonly applyDuration: Histogram<'operation'>;
  readonly #shares: PodGauge;
  readonly #quota: PodGauge;
  readonly #cpusetSize: PodGauge;
  readonly #memory: Gauge<'qos' | 'namespace' | 'pod' | 'knob'>;
  readonly #oom: PodGauge;
  readonly #blkioWeight: PodGauge;
  readonly #labelsByUid = new Map<string, PodLabels>();

  constructor(registry: Registry) {
    const podLabels = ['qos', 'namespace', 'pod'] as const;
    this.writes = counterOnce(registry, {
      name: 'nodeqos_cgroup_writes_total',
      help: 'cgroup and /proc writes by knob (file name)',
      labelNames: ['knob'],
    });
    this.writeErrors = counterOnce(registry, {
      name: 'nodeqos_cgroup_write_errors_total',
      help: 'Refused or failed cgroup and /proc writes by knob and errno (ERANGE: refused before writing)',
      labelNames: ['knob', 'errno'],
    });
    this.applyDuration = histogramOnce(registry, {
      name: 'nodeqos_apply_duration_seconds',
      help: 'Time to apply a plan, restore pods or write the BE tier quota',
      labelNames: ['operation'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    const gauge = (name: string, help: string): PodGauge =>
      gaugeOnce(registry, { name, help, labelNames: podLabels });
    this.#shares = gauge(
      'nodeqos_pod_cpu_shares',
      'Applied pod cpu.shares (on cgroup v2 before conversion to cpu.weight)',
    );
    this.#quota = gauge(
      'nodeqos_pod_cpu_cfs_quota_us',
      'Applied pod CFS quota in microseconds; -1 is unlimited',
    );
    this.#cpusetSize = gauge('nodeqos_pod_cpuset_cpus', 'Number of CPUs in the applied pod cpuset');
    this.#memory = gaugeOnce(registry, {
      name: 'nodeqos_pod_memory_bytes',
      help: 'Applied pod memory min/low/high/max in bytes; -1 is unlimited',
      labelNames: [...podLabels, 'knob'],
    });
    this.#oom = gauge('nodeqos_pod_oom_score_adj', 'Applied oom_score_adj of the pod processes');
    this.#blkioWeight = gauge(
      'nodeqos_pod_blkio_weight',
      'Applied pod blkio weight (10..1000 before any io.weight conversion)',
    );
  }

  setPod(uid: string, labels: PodLabels, applied: AppliedValues): void {
    this.removePod(uid);
    this.#labelsByUid.set(uid, labels);
    const set = (gauge: PodGauge, value: number | null): void => {
      if (value !== null) gauge.set({ ...labels }, value);
    };
    set(this.#shares, applied.shares);
    set(this.#quota, applied.cfsQuotaUs);
    set(this.#cpusetSize, applied.cpusetSize);
    set(this.#oom, applied.oomScoreAdj);
    set(this.#blkioWeight, applied.blkioWeight);
    for (const [knob, value] of Object.entries(applied.memory)) {
      if (value !== null) this.#memory.set({ ...labels, knob }, value);
    }
  }

  /** The BE tier writer changes a BE pod's effective quota between plan passes. */
  setQuota(uid: string, cfsQuotaUs: number): void {
    const labels = this.#labelsByUid.get(uid);
    if (labels) this.#quota.set({ ...labels }, cfsQuotaUs);
  }

  removePod(uid: string): void {
    const labels = this.#labelsByUid.get(uid);
    if (!labels) return;
    for (const gauge of [this.#shares, this.#quota, this.#cpusetSize, this.#oom, this.#blkioWeight])
      gauge.remove({ ...labels });
    for (const knob of ['min', 'low', 'high', 'max']) this.#memory.remove({ ...labels, knob });
    this.#labelsByUid.delete(uid);
  }
}
