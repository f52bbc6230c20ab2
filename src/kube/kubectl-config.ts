// The API server connection kubectl would use, resolved the way kubectl resolves it: --kubeconfig, else every file
// of $KUBECONFIG merged (the first file to set a value wins), else ~/.kube/config, else the in-cluster service
// account; --context, else the current-context. Small on purpose: the CLI's one-request commands (`explain`, the
// kubectl plugin) must start fast, and @kubernetes/client-node alone takes longer to load than the whole command.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

export interface Connection {
  readonly server: string;
  /** Where the settings came from, for errors: a file list, or "in-cluster". */
  readonly source: string;
  readonly context: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly token?: string;
  readonly basicAuth?: string;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
}

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

type Entry = Record<string, unknown>;
interface Named {
  readonly value: Entry;
  readonly dir: string; // relative paths in a kubeconfig are relative to its file
}

interface Merged {
  files: string[];
  currentContext?: string;
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  contexts: Map<string, Named>;
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(entry: Entry | undefined, key: string): string | undefined {
  const value = entry?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function readKubeconfig(file: string): Entry | undefined {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new KubeconfigError(`kubeconfig ${file}: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (doc === null || doc === undefined) return undefined;
  if (!isEntry(doc)) throw new KubeconfigError(`kubeconfig ${file}: not a kubeconfig (expected a mapping)`);
  return doc;
}

/** Adds a kubeconfig list (`clusters`, `users`, `contexts`) to `target`; names already there win. */
function mergeList(target: Map<string, Named>, list: unknown, itemKey: string, dir: string): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (!isEntry(item)) continue;
    const name = str(item, 'name');
    const value = item[itemKey];
    if (name !== undefined && isEntry(value) && !target.has(name)) target.set(name, { value, dir });
  }
}

function mergeFile(merged: Merged, file: string): void {
  const doc = readKubeconfig(file);
  if (doc === undefined) return;
  merged.files.push(file);
  merged.currentContext ??= str(doc, 'current-context');
  const dir = dirname(file);
  mergeList(merged.clusters, doc.clusters, 'cluster', dir);
  mergeList(merged.users, doc.users, 'user', dir);
  mergeList(merged.contexts, doc.contexts, 'context', dir);
}

/** The kubeconfig files kubectl would read, in order. */
export function kubeconfigFiles(explicit: string | undefined, env = process.env): string[] {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new KubeconfigError(`--kubeconfig ${explicit}: no such file`);
    return [explicit];
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(f => f !== '');
  if (fromEnv.length > 0) return fromEnv.filter(f => existsSync(f));
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

function fileOrData(entry: Entry, dir: string, key: string): Buffer | undefined {
  const data = str(entry, `${key}-data`);
  if (data !== undefined) return Buffer.from(data, 'base64');
  const file = str(entry, key);
  if (file === undefined) return undefined;
  const path = resolve(dir, file);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KubeconfigError(`${key} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? ''})`);
  }
}

interface Credentials {
  readonly token?: string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The plugin's environment: ours, its `env` entries, and KUBERNETES_EXEC_INFO as client-go sets it. */
function execEnv(exec: Entry): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const item of Array.isArray(exec.env) ? exec.env : [])
    if (isEntry(item) && typeof item.name === 'string')
      env[item.name] = typeof item.value === 'string' ? item.value : '';
  env.KUBERNETES_EXEC_INFO = JSON.stringify({
    apiVersion: str(exec, 'apiVersion') ?? 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    spec: { interactive: false },
  });
  return env;
}

/** Runs a client-go credential plugin (`users[].user.exec`), as kubectl does, and returns what it printed. */
function execCredential(exec: Entry, dir: string): Credentials {
  const command = str(exec, 'command');
  if (command === undefined) throw new KubeconfigError('user.exec has no command');
  const args = Array.isArray(exec.args) ? exec.args.filter((a): a is string => typeof a === 'string') : [];
  const resolved = command.includes('/') && !isAbsolute(command) ? join(dir, command) : command;
  let out: string;
  try {
    out = execFileSync(resolved, args, {
      env: execEnv(exec),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (error) {
    throw new KubeconfigError(
      `credential plugin ${command}: ${(error as Error).message.split('\n')[0] ?? ''}`,
    );
  }
  const status = (JSON.parse(out) as { status?: Entry }).status ?? {};
  const token = str(status, 'token');
  const cert = str(status, 'clientCertificateData');
  const key = str(status, 'clientKeyData');
  return {
    ...(token === undefined ? {} : { token }),
    ...(cert === undefined ? {} : { cert: Buffer.from(cert) }),
    ...(key === undefined ? {} : { key: Buffer.from(key) }),
  };
}

function inCluster(env: NodeJS.ProcessEnv): Connection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || port === undefined) return undefined;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    source: 'in-cluster',
    context: 'in-cluster',
    ca: readFileSync(join(serviceAccountDir, 'ca.crt')),
    token: readFileSync(join(serviceAccountDir, 'token'), 'utf8').trim(),
    insecureSkipTlsVerify: false,
  };
}

export interface ConnectionOptions {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

function noKubeconfig(env: NodeJS.ProcessEnv): KubeconfigError {
  return new KubeconfigError(
    env.KUBECONFIG
      ? `no kubeconfig: none of the files in $KUBECONFIG (${env.KUBECONFIG}) exists`
      : 'no kubeconfig: ~/.kube/config does not exist and $KUBECONFIG is unset; pass --kubeconfig <file>',
  );
}

/** The context to use and its cluster and user entries. */
function pick(
  merged: Merged,
  source: string,
  wanted: string | undefined,
): { context: string; cluster: Named; server: string; user: Named | undefined } {
  const contextName = wanted ?? merged.currentContext;
  if (contextName === undefined)
    throw new KubeconfigError(`${source}: no current-context; pass --context <name>`);
  const context = merged.contexts.get(contextName)?.value;
  if (!context) throw new KubeconfigError(`${source}: no context named "${contextName}"`);
  const clusterName = str(context, 'cluster') ?? '';
  const cluster = merged.clusters.get(clusterName);
  const server = str(cluster?.value, 'server');
  if (!cluster || server === undefined)
    throw new KubeconfigError(
      `${source}: context "${contextName}" names cluster "${clusterName}", which has no server`,
    );
  const userName = str(context, 'user') ?? '';
  const user = merged.users.get(userName);
  if (user && isEntry(user.value['auth-provider']))
    throw new KubeconfigError(
      `${source}: user "${userName}" uses an auth-provider, which kubectl itself no longer supports; use an exec credential plugin`,
    );
  return { context: contextName, cluster, server, user };
}

function tokenFromFile(user: Entry, dir: string): string | undefined {
  const file = str(user, 'tokenFile');
  if (file === undefined) return undefined;
  const path = resolve(dir, file);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new KubeconfigError(
      `tokenFile ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? ''})`,
    );
  }
}

/** Token, basic auth, client certificate and key of a kubeconfig user (an exec plugin's output first). */
function userCredentials(user: Named | undefined): Pick<Connection, 'token' | 'basicAuth' | 'cert' | 'key'> {
  if (user === undefined) return {};
  const u = user.value;
  const exec = isEntry(u.exec) ? execCredential(u.exec, user.dir) : {};
  const token = exec.token ?? str(u, 'token') ?? tokenFromFile(u, user.dir);
  const username = str(u, 'username');
  const cert = exec.cert ?? fileOrData(u, user.dir, 'client-certificate');
  const key = exec.key ?? fileOrData(u, user.dir, 'client-key');
  return {
    ...(token === undefined ? {} : { token }),
    ...(username === undefined
      ? {}
      : { basicAuth: Buffer.from(`${username}:${str(u, 'password') ?? ''}`).toString('base64') }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

export function resolveConnection(options: ConnectionOptions, env = process.env): Connection {
  const files = kubeconfigFiles(options.kubeconfig, env);
  if (files.length === 0) {
    const cluster = inCluster(env);
    if (cluster) return cluster;
    throw noKubeconfig(env);
  }
  const merged: Merged = { files: [], clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) mergeFile(merged, file);
  const source = merged.files.join(delimiter) || files.join(delimiter);
  const { context, cluster, server, user } = pick(merged, source, options.context);
  const ca = fileOrData(cluster.value, cluster.dir, 'certificate-authority');
  const tlsServerName = str(cluster.value, 'tls-server-name');
  return {
    server,
    source,
    context,
    insecureSkipTlsVerify: cluster.value['insecure-skip-tls-verify'] === true,
    ...(ca === undefined ? {} : { ca }),
    ...(tlsServerName === undefined ? {} : { tlsServerName }),
    ...userCredentials(user),
  };
}
