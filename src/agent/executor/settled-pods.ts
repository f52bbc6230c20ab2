// Pods whose last pass left every knob right, with the spec that pass applied. A pass scoped to changes skips them
// (no file of theirs is read or written) until their plan entry changes, their cgroups change (the cgroup watcher
// names them), or the drift check comes round to them; their last report stands in for them meanwhile.
import type { PlanPod } from '../../api/plan.ts';
import type { PlanFacts } from '../mechanisms/core/mechanism.ts';
import type { PodReport } from '../mechanisms/core/report.ts';

/** What a pod's values depend on: its plan entry, and for BE pods the tier quota that caps them. */
export function podSpecKey(pod: PlanPod, facts: PlanFacts): string {
  return JSON.stringify([pod, pod.qosClass === 'BE' ? facts.beTier : null]);
}

interface Settled {
  readonly specKey: string;
  readonly report: PodReport;
}

export class SettledPods {
  readonly #pods = new Map<string, Settled>();

  /** The pod's last report when it settled with this spec: nothing was written, nothing needs to be. */
  carried(uid: string, specKey: string): PodReport | undefined {
    const settled = this.#pods.get(uid);
    if (settled?.specKey !== specKey) return undefined;
    const { report } = settled;
    return { ...report, written: [], skipped: [], vanishedContainers: [], oom: undefined };
  }

  /** Records a pass's outcome: only a pod applied without failures is settled. */
  note(uid: string, specKey: string, report: PodReport): void {
    if (report.outcome === 'applied' && report.failed.length === 0) this.#pods.set(uid, { specKey, report });
    else this.#pods.delete(uid);
  }

  keepOnly(uids: ReadonlySet<string>): void {
    for (const uid of this.#pods.keys()) if (!uids.has(uid)) this.#pods.delete(uid);
  }
}
