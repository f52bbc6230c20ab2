// CPU pressure from PSI: the `some avg10` field of <procRoot>/pressure/cpu, the share of the last 10 s in which at
// least one runnable task waited for a CPU. It is a kernel-side exponential average, so it trails a step change by
// seconds; the suppress loop still writes in the tick that sees it cross a curve point.
import { join } from 'node:path';
import { errnoOf, messageOf, nodeFs, type AgentFs } from '../../fs.ts';
import { SampleError, type PressureSampler } from './sampler.ts';

const decimal = /^\d{1,3}(\.\d+)?$/;

/** `some avg10` in percent from the text of a PSI file. */
export function parseCpuPressure(text: string, file: string): number {
  const line = text.split('\n').find(l => l.startsWith('some '));
  if (line === undefined) throw new SampleError(file, 'no "some" line');
  const field = line
    .split(/\s+/)
    .slice(1)
    .find(token => token.startsWith('avg10='));
  if (field === undefined) throw new SampleError(file, `no avg10 field in "${line.slice(0, 120)}"`);
  const text10 = field.slice('avg10='.length);
  const value = decimal.test(text10) ? Number(text10) : NaN;
  if (!(value >= 0 && value <= 100)) throw new SampleError(file, `avg10 is not a percent: "${text10}"`);
  return value;
}

export interface PsiSamplerOptions {
  readonly procRoot: string;
  readonly fs?: Pick<AgentFs, 'readFile'>;
}

export function createPsiSampler({ procRoot, fs = nodeFs }: PsiSamplerOptions): PressureSampler {
  const file = join(procRoot, 'pressure', 'cpu');
  return {
    source: 'psi',
    sample: async () => parseCpuPressure(await readPressure(fs, file), file),
  };
}

async function readPressure(fs: Pick<AgentFs, 'readFile'>, file: string): Promise<string> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    throw new SampleError(file, `cannot read (${explain(errnoOf(error))}): ${messageOf(error)}`, {
      cause: error,
    });
  }
}

function explain(errno: string): string {
  if (errno === 'ENOENT') return 'kernel built without CONFIG_PSI';
  if (errno === 'EOPNOTSUPP') return 'PSI disabled at boot: add psi=1 to the kernel command line';
  return errno;
}
