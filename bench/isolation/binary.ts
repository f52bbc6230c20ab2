// The benchmark's workload processes are one small C program (workloads.c), compiled with the system's gcc into
// .tools/isolation-<hash of the source>/ so an edited source is rebuilt and an unchanged one is not.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const source = fileURLToPath(new URL('./workloads.c', import.meta.url));
const toolsDir = fileURLToPath(new URL('../../.tools/', import.meta.url));

/** The path of the compiled workloads binary; compiles it first when this source has not been built yet. */
export async function workloadsBinary(): Promise<string> {
  const hash = createHash('sha256')
    .update(await readFile(source))
    .digest('hex')
    .slice(0, 16);
  const dir = join(toolsDir, `isolation-${hash}`);
  const binary = join(dir, 'workloads');
  try {
    await access(binary);
    return binary;
  } catch {
    // not built yet
  }
  await mkdir(dir, { recursive: true });
  const partial = `${binary}.${process.pid}`;
  try {
    await promisify(execFile)('gcc', ['-O2', '-Wall', '-Werror', '-o', partial, source]);
  } catch (error) {
    throw new Error(`compiling ${source} with gcc failed: ${(error as Error).message}`, { cause: error });
  }
  await rename(partial, binary);
  return binary;
}

/** Why the workloads cannot be built here (no gcc), or undefined. */
export async function compilerUnavailable(): Promise<string | undefined> {
  try {
    await promisify(execFile)('gcc', ['--version']);
    return undefined;
  } catch (error) {
    return `gcc is not available (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}
