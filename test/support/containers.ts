// Real containers for tests: podman with runc (crun refuses this machine's hybrid cgroup v1 layout) and the
// cgroupfs manager, so a container's cgroup lands exactly under the --cgroup-parent the test names.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** CI sets NODEQOS_REQUIRE_CONTAINERS=1: a missing tool then fails the suite instead of skipping it. */
export function containersRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODEQOS_REQUIRE_CONTAINERS === '1';
}

/** Every podman call: the runtime that works here, cgroupfs paths, and the ulimits this machine allows. */
export const podmanGlobal = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'] as const;
export const ulimits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'] as const;

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some(dir => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Why container tests cannot run here, or undefined when they can: podman, buildah and runc installed, root,
 * and cgroup v1 hierarchies at /sys/fs/cgroup. With NODEQOS_REQUIRE_CONTAINERS=1 a reason is an error.
 */
export function containerSkipReason(
  tools: readonly string[] = ['podman', 'buildah', 'runc'],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const missing = tools.filter(t => !onPath(t) && !existsSync(`/usr/sbin/${t}`));
  let reason: string | undefined;
  if (missing.length > 0)
    reason = `${missing.join(', ')} not installed (apt-get install -y podman buildah runc)`;
  else if (process.getuid?.() !== 0) reason = 'not root (rootful podman places cgroups under /sys/fs/cgroup)';
  else if (!existsSync('/sys/fs/cgroup/cpu/cpu.shares'))
    reason = 'no cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu';
  if (reason !== undefined && containersRequired(env))
    throw new Error(`container tests required (NODEQOS_REQUIRE_CONTAINERS=1) but ${reason}`);
  return reason;
}

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never rejects on a non-zero exit (the caller asserts on it). */
export function exec(binary: string, args: readonly string[], timeoutMs = 120_000): Promise<Exec> {
  return new Promise(resolve => {
    execFile(
      binary,
      args,
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr: error !== null && stderr === '' ? error.message : stderr });
      },
    );
  });
}

export function podman(args: readonly string[], timeoutMs?: number): Promise<Exec> {
  return exec('podman', [...podmanGlobal, ...args], timeoutMs);
}

/** podman, failing with its stderr when it exits non-zero; returns trimmed stdout. */
export async function podmanOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await podman(args, timeoutMs);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Removes containers by name or id, whatever state they are in; missing ones are fine. */
export async function removeContainers(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await podman(['rm', '--force', '--time', '0', '--ignore', ...names]);
}

export async function containerPid(name: string): Promise<number> {
  const pid = Number(await podmanOk(['inspect', '--format', '{{.State.Pid}}', name]));
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`container ${name} has no running process`);
  return pid;
}
