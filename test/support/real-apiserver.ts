// A real kube-apiserver (k8s.io/kubernetes built from Go modules, embedded etcd) for tests: builds the launcher
// in test/kube-apiserver/ once per machine (cached under .tools/, keyed by its go.mod, go.sum, Go sources, Go
// version and build flags), starts it on loopback with the repository's CRDs, and stops it (the launcher then
// removes its data directory). Reusable by any suite:
//
//   const api = await startRealApiserver();       // throws RealApiserverUnavailable when Go is missing
//   const kc = api.kubeConfig();                   // admin (system:masters) client-node KubeConfig
//   ...
//   await api.stop();
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const launcherDir = join(repoRoot, 'test/kube-apiserver');
const cacheRoot = join(repoRoot, '.tools/kube-apiserver');

/** The Kubernetes release test/kube-apiserver/go.mod requires; stamped into /version by the build flags. */
export const kubernetesVersion = 'v1.35.4';
const versionFlags = ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap(pkg => [
  `-X ${pkg}.gitVersion=${kubernetesVersion}`,
  `-X ${pkg}.gitMajor=1`,
  `-X ${pkg}.gitMinor=35`,
  `-X ${pkg}.gitTreeState=clean`,
]);
const ldflags = ['-s', '-w', ...versionFlags].join(' ');

export class RealApiserverUnavailable extends Error {}

/** The environment for every go command: no surprise toolchain downloads, go.sum must already be complete. */
function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' };
}

/** `go version`, or undefined when Go is not installed. */
export function goVersion(): string | undefined {
  const result = spawnSync('go', ['env', 'GOVERSION', 'GOOS', 'GOARCH'], { encoding: 'utf8', env: goEnv() });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return result.stdout.trim().split('\n').join(' ');
}

async function cacheKey(go: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(launcherDir)).filter(
    f => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum',
  );
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(launcherDir, file)));
  }
  hash.update(`${go}\0${ldflags}`);
  return hash.digest('hex').slice(0, 16);
}

export interface LauncherBinary {
  readonly path: string;
  /** True when this call built it (a cache miss). */
  readonly built: boolean;
  /** How long the build that produced this binary took (recorded next to it). */
  readonly buildSeconds: number;
  readonly sizeBytes: number;
}

let building: Promise<LauncherBinary> | undefined;

function ignoreLine(): void {
  // progress is not wanted
}

/**
 * The launcher binary, built on a cache miss. A cold build downloads the modules and compiles kube-apiserver
 * (tens of minutes on a busy 2-core machine); progress goes to `log`.
 */
export function launcherBinary(log: (line: string) => void = ignoreLine): Promise<LauncherBinary> {
  building ??= buildLauncher(log).catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

async function buildLauncher(log: (line: string) => void): Promise<LauncherBinary> {
  const go = goVersion();
  if (go === undefined) throw new RealApiserverUnavailable('Go is not installed (no `go` on PATH)');
  const dir = join(cacheRoot, await cacheKey(go));
  const path = join(dir, 'kube-apiserver-for-tests');
  const record = join(dir, 'build.json');
  if (existsSync(path) && existsSync(record)) {
    const { buildSeconds } = JSON.parse(await readFile(record, 'utf8')) as { buildSeconds: number };
    return { path, built: false, buildSeconds, sizeBytes: (await stat(path)).size };
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const args = ['build', '-ldflags', ldflags, '-o', tmp, '.'];
  log(`building the real kube-apiserver (${kubernetesVersion}, ${go}) into ${dir}: go ${args.join(' ')}`);
  const started = Date.now();
  const code = await new Promise<number>((resolve, reject) => {
    // nice: the machine is shared, and a cold build compiles for many minutes.
    const child = spawn('nice', ['-n', '10', 'go', ...args], {
      cwd: launcherDir,
      env: goEnv(),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', c => resolve(c ?? 1));
  });
  if (code !== 0) {
    await rm(tmp, { force: true });
    throw new Error(
      `go build of test/kube-apiserver failed (exit ${code}); command: cd test/kube-apiserver && go ${args.join(' ')}`,
    );
  }
  const buildSeconds = Math.round((Date.now() - started) / 1000);
  await rename(tmp, path);
  // Older keys' binaries (about 100 MB each) are never used again.
  for (const other of await readdir(cacheRoot)) {
    if (join(cacheRoot, other) !== dir) await rm(join(cacheRoot, other), { recursive: true, force: true });
  }
  const sizeBytes = (await stat(path)).size;
  await writeFile(
    record,
    `${JSON.stringify({ buildSeconds, go, kubernetesVersion, sizeBytes, builtAt: new Date().toISOString() })}\n`,
  );
  log(`built in ${buildSeconds} s (${(sizeBytes / 1e6).toFixed(0)} MB)`);
  return { path, built: true, buildSeconds, sizeBytes };
}

export interface RealApiserver {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly dir: string;
  /** Milliseconds from process start to ready (CRDs established and in /openapi/v3). */
  readonly startupMs: number;
  readonly binary: LauncherBinary;
  /** An admin (system:masters) client-node KubeConfig. */
  kubeConfig(): KubeConfig;
  /** The launcher's recent stderr (kube-apiserver and etcd logs), for failure messages. */
  logs(): string;
  /** SIGTERM, then wait for exit (the launcher removes its data directory). */
  stop(): Promise<void>;
}

export interface RealApiserverOptions {
  /** CRD files or directories to apply (default: the repository's crds/). */
  readonly crds?: readonly string[];
  /** Keep the data directory on exit (scripts/run kube-apiserver --keep-dir). */
  readonly keepDir?: boolean;
  readonly dir?: string;
  readonly port?: number;
  /** Extra kube-apiserver flags. */
  readonly apiserverArgs?: readonly string[];
  readonly log?: (line: string) => void;
  readonly readyTimeoutMs?: number;
}

const logLines = 400;

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise(resolve => child.once('exit', code => resolve(code)));
}

/** Starts one real kube-apiserver. Build it first (a cold build can take longer than any test timeout). */
export async function startRealApiserver(options: RealApiserverOptions = {}): Promise<RealApiserver> {
  const binary = await launcherBinary(options.log);
  const crds = options.crds ?? [join(repoRoot, 'crds')];
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const args = [
    `--crds=${crds.join(',')}`,
    '--exit-on-stdin-close',
    `--ready-timeout=${Math.round(readyTimeoutMs / 1000)}s`,
    ...(options.keepDir === true ? ['--keep-dir'] : []),
    ...(options.dir === undefined ? [] : [`--dir=${options.dir}`]),
    ...(options.port === undefined ? [] : [`--port=${options.port}`]),
    ...(options.apiserverArgs === undefined ? [] : ['--', ...options.apiserverArgs]),
  ];
  // stdin stays a pipe: when this process dies, the launcher sees EOF and shuts down. Its own process group
  // (detached) keeps a terminal's Ctrl-C from reaching it as well: kube-apiserver exits at once, skipping the
  // cleanup, on a second signal, and stop() sends the first.
  const child = spawn(binary.path, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', line => {
    stderr.push(line);
    if (stderr.length > logLines) stderr.shift();
  });
  const logs = (): string => stderr.join('\n');
  const ready = await new Promise<{ kubeconfig: string; server: string; dir: string; startupMs: number }>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`kube-apiserver not ready after ${readyTimeoutMs} ms; last logs:\n${logs()}`));
      }, readyTimeoutMs + 5000);
      createInterface({ input: child.stdout }).on('line', line => {
        if (!line.startsWith('{"')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { kubeconfig: string; server: string; dir: string; startupMs: number });
      });
      child.once('exit', code => {
        clearTimeout(timer);
        reject(new Error(`kube-apiserver exited (${code}) before it was ready; last logs:\n${logs()}`));
      });
    },
  );
  let stopping: Promise<void> | undefined;
  return {
    server: ready.server,
    kubeconfigPath: ready.kubeconfig,
    dir: ready.dir,
    startupMs: ready.startupMs,
    binary,
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromFile(ready.kubeconfig);
      return kc;
    },
    logs,
    stop: () => {
      stopping ??= (async () => {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await waitForExit(child);
        clearTimeout(killer);
        // The launcher removes its data directory; after a SIGKILL it could not.
        if (options.keepDir !== true) await rm(ready.dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * Whether suites that need the real server must run: always when NODEQOS_REQUIRE_REAL_APISERVER=1 (.ci/run),
 * otherwise when Go is installed. The reason is printed when they are skipped.
 */
export function realApiserverPlan(): { run: boolean; reason: string } {
  if (process.env.NODEQOS_REQUIRE_REAL_APISERVER === '1')
    return { run: true, reason: 'NODEQOS_REQUIRE_REAL_APISERVER=1' };
  if (process.env.NODEQOS_SKIP_REAL_APISERVER === '1')
    return { run: false, reason: 'NODEQOS_SKIP_REAL_APISERVER=1' };
  const go = goVersion();
  return go === undefined
    ? { run: false, reason: 'Go is not installed: the real kube-apiserver suites are SKIPPED' }
    : { run: true, reason: `Go present (${go})` };
}
