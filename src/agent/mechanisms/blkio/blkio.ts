// blkio (v1) / io (v2): the pod's I/O weight and per-device throttles. The weight goes to whichever weight file the
// pod's directory has (CFQ's blkio.weight, else BFQ's; v2: io.bfq.weight unconverted, else io.weight converted);
// throttle rules name devices the node resolves to major:minor numbers.
import { dirname } from 'node:path';
import type { PlanPod } from '../../../api/plan.ts';
import type { AppliedCheck } from '../core/applied.ts';
import { bpsRatesCodec, iopsRatesCodec, ioMaxCodec, weightCodec, type DeviceRates } from '../core/codecs.ts';
import { blkioWeightToIoWeight } from '../core/conversions.ts';
import { plainOps } from '../core/desired.ts';
import { knob, type Knob } from '../core/knob.ts';
import {
  notDerivable,
  type Mechanism,
  type NodeSpec,
  type PlanFacts,
  type Wanted,
} from '../core/mechanism.ts';
import type { MechanismSession } from '../core/session.ts';
import { ioMaxOf, resolveThrottles, throttleFiles, throttleKeys } from './throttles.ts';

/**
 * Which weight file a QoS directory's pods carry, per pass (keyed by the pass's facts, then the parent directory):
 * every cgroup under one parent has the same interface files, so one pod's probe answers for the others and a
 * pass makes two exists calls per QoS directory instead of per pod. "Neither" is kept only once the pod's own
 * directory is known to exist (a vanished pod proves nothing).
 */
type WeightProbes = WeakMap<PlanFacts, Map<string, string | undefined>>;

async function weightFile(
  session: MechanismSession,
  candidates: readonly Knob<number>[],
  facts: PlanFacts,
  probes: WeightProbes,
): Promise<string | undefined> {
  if (!session.layout.hasController('blkio')) return undefined;
  const dir = session.dir('blkio', null);
  const parent = dirname(dir);
  let byParent = probes.get(facts);
  if (byParent?.has(parent) === true) return byParent.get(parent);
  if (!byParent) probes.set(facts, (byParent = new Map<string, string | undefined>()));
  for (const candidate of candidates) {
    if (await session.exists(session.layout.file(dir, candidate.file))) {
      byParent.set(parent, candidate.file);
      return candidate.file;
    }
  }
  if (await session.exists(dir)) byParent.set(parent, undefined);
  return undefined;
}

function weightApplied(candidates: readonly Knob<number>[]) {
  return (pod: PlanPod, ok: AppliedCheck) => ({
    blkioWeight: candidates.some(candidate => ok(candidate.file)) ? pod.blkio.weight : null,
  });
}

function v1Blkio(): Mechanism {
  /** blkio.weight (CFQ) first, else blkio.bfq.weight (BFQ), as runc picks them. */
  const weights = [
    knob('blkio.weight', 'blkio', weightCodec(10, 1000, 'plain')),
    knob('blkio.bfq.weight', 'blkio', weightCodec(1, 1000, 'plain')),
  ];
  const throttles = throttleKeys.map(key => ({
    key,
    knob: knob<DeviceRates>(
      throttleFiles[key],
      'blkio',
      key.endsWith('Bps') ? bpsRatesCodec : iopsRatesCodec,
    ),
  }));
  const knobs: Knob<unknown>[] = [...weights, ...throttles.map(t => t.knob)];
  const probes: WeightProbes = new WeakMap();
  const want = async (pod: PlanPod, facts: PlanFacts, session: MechanismSession): Promise<Wanted> => {
    const values = new Map<string, unknown>();
    const unsupported = [];
    const file = await weightFile(session, weights, facts, probes);
    if (file === undefined)
      unsupported.push({
        knob: 'blkio.weight',
        reason: 'neither blkio.weight nor blkio.bfq.weight exists (no CFQ/BFQ)',
      });
    else values.set(file, pod.blkio.weight);
    const throttle = resolveThrottles(pod, facts.devices, 'blkio.throttle');
    unsupported.push(...throttle.unresolved);
    for (const { key, knob: rates } of throttles) values.set(rates.file, throttle.rates[key]);
    return { values, unsupported };
  };
  return {
    name: 'blkio',
    knobs,
    want,
    // kubelet sets no throttles; the weight comes from the pod spec.
    kubeletDefaults: () =>
      Promise.resolve({
        values: new Map(throttles.map(({ knob: rates }) => [rates.file, {}])),
        leftAsIs: [{ knob: 'blkio.weight', reason: notDerivable }],
      }),
    ops: (session, desired) => plainOps(session, knobs, desired),
    applied: weightApplied(weights),
  };
}

function v2Io(): Mechanism {
  /** io.bfq.weight (unconverted 1..1000) when it exists, else io.weight "default N" (1..10000). */
  const bfqWeight = knob('io.bfq.weight', 'blkio', weightCodec(1, 1000, 'plain'));
  const ioWeight = knob('io.weight', 'blkio', weightCodec(1, 10000, 'default'));
  const ioMax = knob('io.max', 'blkio', ioMaxCodec);
  const knobs: Knob<unknown>[] = [bfqWeight, ioWeight, ioMax];
  const probes: WeightProbes = new WeakMap();
  const want = async (pod: PlanPod, facts: PlanFacts, session: MechanismSession): Promise<Wanted> => {
    const values = new Map<string, unknown>();
    const unsupported = [];
    const file = await weightFile(session, [bfqWeight, ioWeight], facts, probes);
    if (file === bfqWeight.file) values.set(bfqWeight.file, pod.blkio.weight);
    else if (file === ioWeight.file) values.set(ioWeight.file, blkioWeightToIoWeight(pod.blkio.weight));
    else
      unsupported.push({
        knob: 'io.weight',
        reason: 'neither io.bfq.weight nor io.weight exists (io controller off or no weight-based policy)',
      });
    const throttle = resolveThrottles(pod, facts.devices, 'io.max');
    unsupported.push(...throttle.unresolved);
    values.set(ioMax.file, ioMaxOf(throttle.rates));
    return { values, unsupported };
  };
  return {
    name: 'blkio',
    knobs,
    want,
    kubeletDefaults: () =>
      Promise.resolve({
        values: new Map([[ioMax.file, {}]]),
        leftAsIs: [{ knob: ioWeight.file, reason: notDerivable }],
      }),
    ops: (session, desired) => plainOps(session, knobs, desired),
    applied: weightApplied([bfqWeight, ioWeight]),
  };
}

export function blkioMechanism(node: NodeSpec): Mechanism {
  return node.version === 'v1' ? v1Blkio() : v2Io();
}
