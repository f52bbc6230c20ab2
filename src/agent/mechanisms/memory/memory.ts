// memory: the pod's limit and protection. v2 has min/low/high/max; v1 has only the limit and the soft limit (the
// nearest to memory.low), so memory.min and memory.high are reported as not enforced there.
import type { PlanPod } from '../../../api/plan.ts';
import type { AppliedCheck, AppliedValues } from '../core/applied.ts';
import { bytesCodec } from '../core/codecs.ts';
import { plainOps } from '../core/desired.ts';
import { knob, type Knob } from '../core/knob.ts';
import { notDerivable, type Mechanism, type NodeSpec, type Wanted } from '../core/mechanism.ts';
import type { UnsupportedKnob } from '../core/report.ts';

function bytesIfOk(ok: AppliedCheck): (file: string, value: number | null) => number | null {
  return (file, value) => (ok(file) ? (value ?? -1) : null);
}

function v1Memory(pageSize: number): Mechanism {
  const limit = knob('memory.limit_in_bytes', 'memory', bytesCodec('-1', pageSize));
  const softLimit = knob('memory.soft_limit_in_bytes', 'memory', bytesCodec('-1', pageSize));
  const knobs: Knob<unknown>[] = [limit, softLimit];
  const want = (pod: PlanPod): Wanted => {
    const unsupported: UnsupportedKnob[] = [];
    if ((pod.memory.minBytes ?? 0) > 0)
      unsupported.push({ knob: 'memory.min', reason: 'cgroup v1 has no memory.min; not enforced' });
    if (pod.memory.highBytes !== null)
      unsupported.push({ knob: 'memory.high', reason: 'cgroup v1 has no memory.high; not enforced' });
    const values = new Map<string, unknown>([
      [limit.file, pod.memory.maxBytes],
      // memory.low's nearest v1 knob: reclaim prefers groups above their soft limit; "no protection" is unlimited.
      [
        softLimit.file,
        pod.memory.lowBytes === null || pod.memory.lowBytes === 0 ? null : pod.memory.lowBytes,
      ],
    ]);
    return { values, unsupported };
  };
  return {
    name: 'memory',
    knobs,
    want: pod => Promise.resolve(want(pod)),
    // No soft limit is kubelet's default; the limit comes from the pod spec.
    kubeletDefaults: () =>
      Promise.resolve({
        values: new Map([[softLimit.file, null]]),
        leftAsIs: [{ knob: limit.file, reason: notDerivable }],
      }),
    ops: (session, desired) => plainOps(session, knobs, desired),
    applied: (pod: PlanPod, ok: AppliedCheck): Partial<AppliedValues> => {
      const bytes = bytesIfOk(ok);
      return {
        memory: {
          min: null,
          low: bytes(softLimit.file, pod.memory.lowBytes),
          high: null,
          max: bytes(limit.file, pod.memory.maxBytes),
        },
      };
    },
  };
}

function v2Memory(pageSize: number): Mechanism {
  const [min, low, high, max] = (['memory.min', 'memory.low', 'memory.high', 'memory.max'] as const).map(
    file => knob(file, 'memory', bytesCodec('max', pageSize)),
  ) as [Knob<number | null>, Knob<number | null>, Knob<number | null>, Knob<number | null>];
  const knobs: Knob<unknown>[] = [min, low, high, max];
  return {
    name: 'memory',
    knobs,
    want: pod =>
      Promise.resolve({
        values: new Map<string, unknown>([
          [min.file, pod.memory.minBytes ?? 0],
          [low.file, pod.memory.lowBytes ?? 0],
          [high.file, pod.memory.highBytes],
          [max.file, pod.memory.maxBytes],
        ]),
        unsupported: [],
      }),
    // No protection and no throttling are kubelet's defaults; memory.max comes from the pod spec.
    kubeletDefaults: () =>
      Promise.resolve({
        values: new Map<string, unknown>([
          [min.file, 0],
          [low.file, 0],
          [high.file, null],
        ]),
        leftAsIs: [{ knob: max.file, reason: notDerivable }],
      }),
    ops: (session, desired) => plainOps(session, knobs, desired),
    applied: (pod: PlanPod, ok: AppliedCheck): Partial<AppliedValues> => {
      const bytes = bytesIfOk(ok);
      return {
        memory: {
          min: bytes(min.file, pod.memory.minBytes ?? 0),
          low: bytes(low.file, pod.memory.lowBytes ?? 0),
          high: bytes(high.file, pod.memory.highBytes),
          max: bytes(max.file, pod.memory.maxBytes),
        },
      };
    },
  };
}

export function memoryMechanism(node: NodeSpec): Mechanism {
  return node.version === 'v1' ? v1Memory(node.pageSize) : v2Memory(node.pageSize);
}
