// Runs tc (and the few other tools the network code needs) with argument arrays, never through a shell, optionally
// inside a named network namespace via `ip netns exec`.
import { execFile } from 'node:child_process';
import { checkNetnsName } from '../net/names.ts';

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs file with args; rejects with a CommandError when the command fails. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandOutput>;

export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly exitCode: number | string | undefined;
  readonly stderr: string;

  constructor(
    argv: readonly string[],
    exitCode: number | string | undefined,
    stderr: string,
    options?: ErrorOptions,
  ) {
    const detail = stderr.trim() === '' ? '' : `: ${stderr.trim()}`;
    super(`\`${argv.join(' ')}\` failed (exit ${String(exitCode)})${detail}`, options);
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

const timeoutMs = 15_000;
const maxBuffer = 16 * 1024 * 1024;

export const execRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { timeout: timeoutMs, maxBuffer, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const code =
          typeof error.code === 'number' || typeof error.code === 'string' ? error.code : undefined;
        reject(
          new CommandError([file, ...args], code, stderr === '' ? error.message : stderr, { cause: error }),
        );
      },
    );
  });

/** `tc ARGS`, or `ip netns exec NS tc ARGS` when netns is set. */
export type TcRunner = (args: readonly string[]) => Promise<string>;

export function tcRunner(run: CommandRunner, netns?: string): TcRunner {
  const prefix = netns === undefined ? [] : ['netns', 'exec', checkNetnsName(netns), 'tc'];
  return async args =>
    (await (netns === undefined ? run('tc', args) : run('ip', [...prefix, ...args]))).stdout;
}

/** Reads a small text file, inside the namespace when netns is set (its /sys shows that namespace's devices). */
export function fileReader(
  run: CommandRunner,
  netns: string | undefined,
  readLocal: (path: string) => Promise<string>,
): (path: string) => Promise<string> {
  if (netns === undefined) return readLocal;
  const ns = checkNetnsName(netns);
  return async path => (await run('ip', ['netns', 'exec', ns, 'cat', '--', path])).stdout;
}
