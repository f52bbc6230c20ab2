// `--pressure N`: the same pressure on every tick, to pin the BE quota at the curve's value for N.
import type { PressureSampler } from './sampler.ts';

export function createFixedSampler(pressure: number): PressureSampler {
  if (!Number.isFinite(pressure) || pressure < 0 || pressure > 100) {
    throw new RangeError(`fixed pressure must be a percent between 0 and 100, got ${pressure}`);
  }
  return { source: 'fixed', sample: () => Promise.resolve(pressure) };
}
