// A child process run without blocking the event loop: needed when the process it talks to (the embedded
// API server, an in-process controller) lives in this test process, where spawnSync would stall it.
import { spawn } from 'node:child_process';
import type { RunResult } from '../chart/helm.ts';

export function runAsync(
  binary: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', code => {
      resolve({ code, stdout, stderr });
    });
  });
}
