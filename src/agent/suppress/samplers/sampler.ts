// What the suppress loop asks of a pressure source.

export type SamplerSource = 'utilization' | 'psi' | 'fixed';

export interface PressureSampler {
  readonly source: SamplerSource;
  /**
   * Node CPU pressure in percent (0..100), or undefined when there is no new value yet (a delta-based sampler's
   * first read, or two reads inside the same clock tick). Rejects when the source cannot be read or parsed.
   */
  sample(): Promise<number | undefined>;
}

/** The error every sampler throws for a file it cannot use: always names the file. */
export class SampleError extends Error {
  readonly file: string;

  constructor(file: string, message: string, options?: ErrorOptions) {
    super(`${file}: ${message}`, options);
    this.name = 'SampleError';
    this.file = file;
  }
}
