// One sampler per pressure source, kept for the life of the agent: the utilization sampler holds the previous
// /proc/stat read, so a plan that switches sources and back does not lose more than one tick.
import type { PlanSpec } from '../../../api/plan.ts';
import type { AgentFs } from '../../fs.ts';
import { createFixedSampler } from './fixed.ts';
import { createPsiSampler } from './psi.ts';
import type { PressureSampler } from './sampler.ts';
import { createUtilizationSampler } from './utilization.ts';

export type PressureSource = PlanSpec['cpuSuppress']['pressureSource'];
export type SamplerFor = (source: PressureSource) => PressureSampler;

export interface SamplerSelectorOptions {
  readonly procRoot: string;
  /** `--pressure N`: every source answers N. */
  readonly fixedPressure?: number;
  readonly fs?: Pick<AgentFs, 'readFile'>;
}

export function createSamplerSelector({ procRoot, fixedPressure, fs }: SamplerSelectorOptions): SamplerFor {
  if (fixedPressure !== undefined) {
    const fixed = createFixedSampler(fixedPressure);
    return () => fixed;
  }
  const options = fs === undefined ? { procRoot } : { procRoot, fs };
  const samplers: Record<PressureSource, PressureSampler> = {
    utilization: createUtilizationSampler(options),
    psi: createPsiSampler(options),
  };
  return source => samplers[source];
}
