// Runs the real CLI in a child process with the same Node binary as the tests.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], cwd = repoRoot): CliResult {
  const result = spawnSync(process.execPath, [join(repoRoot, 'src', 'cli', 'main.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `nodeqos plan` on the example node, its pods and the two-NUMA topology. */
export const examplePlanArgs = [
  'plan',
  '--policy',
  'examples/policies',
  '--node',
  'examples/node.yaml',
  '--pods',
  'examples/pods.yaml',
  '--topology',
  'examples/topology-2numa.json',
] as const;
