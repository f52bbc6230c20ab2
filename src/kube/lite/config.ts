// Where the API server is and how to authenticate, without @kubernetes/client-node: in-cluster (the service
// account's token, re-read when kubelet rotates it, and the cluster CA) or a kubeconfig (token, token file or
// client certificate; current-context or a named context). Exec plugins and auth providers are refused with an
// error naming the field: the agent never needs them, and running a plugin is not this client's job.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { FileToken, staticToken, type TokenSource } from './token-file.ts';

/**
 * A kubeconfig's text as data. The yaml package is loaded only for a file that is not JSON: an agent in a cluster
 * (service account, no kubeconfig) never pays its 8-12 MiB of resident memory (docs/performance.md).
 */
function parseKubeconfig(text: string): unknown {
  if (text.trimStart().startsWith('{')) return JSON.parse(text) as unknown;
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text) as unknown;
}

export interface ClusterConnection {
  /** The API server's origin, e.g. https://10.96.0.1:443 (a path prefix, if any, is kept). */
  readonly server: URL;
  /** PEM CA bundle the server's certificate must chain to; undefined: the system roots. */
  readonly ca: string | undefined;
  readonly insecureSkipTlsVerify: boolean;
  /** SNI and certificate name to check instead of the server's host (kubeconfig tls-server-name). */
  readonly tlsServerName: string | undefined;
  readonly clientCertificate: { readonly cert: string; readonly key: string } | undefined;
  readonly bearerToken: TokenSource | undefined;
  /** Where this came from, for logs: `in-cluster` or `kubeconfig <path> context <name>`. */
  readonly source: string;
  /** The pod's namespace (in-cluster) or the context's namespace, when known. */
  readonly namespace: string | undefined;
}

export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Directory holding token, ca.crt and namespace (default: the standard mount). */
  readonly serviceAccountDir?: string;
  /** Least time between checks of the token file (default 1000 ms). */
  readonly tokenCheckIntervalMs?: number;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function inClusterConnection(options: InClusterOptions = {}): ClusterConnection {
  const env = options.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '')
    throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  const dir = options.serviceAccountDir ?? serviceAccountDir;
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return {
    server: new URL(`https://${bracketed}:${port}`),
    ca,
    insecureSkipTlsVerify: false,
    tlsServerName: undefined,
    clientCertificate: undefined,
    bearerToken: new FileToken(join(dir, 'token'), { checkIntervalMs: options.tokenCheckIntervalMs }),
    source: 'in-cluster',
    namespace: readOptional(join(dir, 'namespace')),
  };
}

// --- kubeconfig ---

type Yaml = Record<string, unknown>;

interface Named {
  readonly name: string;
  readonly entry: Yaml;
  /** Directory of the file it came from: relative paths inside it are relative to that file. */
  readonly base: string;
}

interface MergedConfig {
  readonly clusters: Map<string, Named>;
  readonly users: Map<string, Named>;
  readonly contexts: Map<string, Named>;
  readonly currentContext: string | undefined;
  readonly files: string[];
}

function isRecord(value: unknown): value is Yaml {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function namedList(
  doc: Yaml,
  file: string,
  [key, inner]: readonly [string, string],
  into: Map<string, Named>,
): void {
  const list = doc[key];
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new Error(`${file}: ${key}: must be a list`);
  list.forEach((item: unknown, index) => {
    if (!isRecord(item) || typeof item.name !== 'string')
      throw new Error(`${file}: ${key}[${index}].name: must be a string`);
    const entry = item[inner] ?? {};
    if (!isRecord(entry)) throw new Error(`${file}: ${key}[${index}].${inner}: must be a mapping`);
    // As kubectl merges $KUBECONFIG: the first file that names an entry wins.
    if (!into.has(item.name)) into.set(item.name, { name: item.name, entry, base: dirname(file) });
  });
}

function loadFiles(paths: readonly string[]): MergedConfig {
  const merged: MergedConfig = {
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    currentContext: undefined,
    files: [],
  };
  let currentContext: string | undefined;
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      // $KUBECONFIG may list files that do not exist; kubectl skips them too. An explicit single path must exist.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && paths.length > 1) continue;
      throw new Error(`kubeconfig ${path}: ${(error as Error).message}`, { cause: error });
    }
    const doc = parseKubeconfig(text);
    if (doc === null || doc === undefined) continue;
    if (!isRecord(doc)) throw new Error(`kubeconfig ${path}: not a mapping`);
    merged.files.push(path);
    namedList(doc, path, ['clusters', 'cluster'], merged.clusters);
    namedList(doc, path, ['users', 'user'], merged.users);
    namedList(doc, path, ['contexts', 'context'], merged.contexts);
    const current = doc['current-context'];
    if (currentContext === undefined && typeof current === 'string' && current !== '')
      currentContext = current;
  }
  return { ...merged, currentContext };
}

function str(entry: Named, key: string, what: string): string | undefined {
  const value = entry.entry[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${what} ${entry.name}: ${key}: must be a string`);
  return value;
}

/** `<key>-data` (base64) or `<key>` (a file path, relative to the kubeconfig's directory). */
function pem(entry: Named, key: string, what: string): string | undefined {
  const data = str(entry, `${key}-data`, what);
  if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
  const path = str(entry, key, what);
  if (path === undefined) return undefined;
  return readFileSync(isAbsolute(path) ? path : resolve(entry.base, path), 'utf8');
}

const unsupportedUserFields = ['exec', 'auth-provider', 'username', 'password', 'as', 'as-groups'];

function credentials(
  user: Named | undefined,
  tokenCheckIntervalMs: number | undefined,
): Pick<ClusterConnection, 'bearerToken' | 'clientCertificate'> {
  if (user === undefined) return { bearerToken: undefined, clientCertificate: undefined };
  const what = 'kubeconfig user';
  for (const field of unsupportedUserFields)
    if (user.entry[field] !== undefined)
      throw new Error(
        `${what} ${user.name}: ${field}: not supported by the nodeqos client (use a token, tokenFile or client certificate)`,
      );
  const cert = pem(user, 'client-certificate', what);
  const key = pem(user, 'client-key', what);
  if ((cert === undefined) !== (key === undefined))
    throw new Error(`${what} ${user.name}: client-certificate and client-key must be given together`);
  const token = str(user, 'token', what);
  const tokenFile = str(user, 'tokenFile', what);
  const bearerToken =
    token !== undefined
      ? staticToken(token)
      : tokenFile !== undefined
        ? new FileToken(isAbsolute(tokenFile) ? tokenFile : resolve(user.base, tokenFile), {
            checkIntervalMs: tokenCheckIntervalMs,
          })
        : undefined;
  return {
    bearerToken,
    clientCertificate: cert !== undefined && key !== undefined ? { cert, key } : undefined,
  };
}

export interface KubeconfigOptions {
  /** Files to read, merged in order; default $KUBECONFIG (colon-separated), else ~/.kube/config. */
  readonly paths?: readonly string[];
  /** The context to use instead of current-context (kubectl --context). */
  readonly context?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly tokenCheckIntervalMs?: number;
}

export function defaultKubeconfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = env.KUBECONFIG;
  if (list !== undefined && list !== '') return list.split(':').filter(path => path !== '');
  return [join(homedir(), '.kube', 'config')];
}

interface Selected {
  readonly context: Named;
  readonly cluster: Named;
  readonly user: Named | undefined;
}

/** The context (named, else current), its cluster and its user; each missing piece is an error naming it. */
function select(config: MergedConfig, where: string, name: string | undefined): Selected {
  if (name === undefined) throw new Error(`${where}: no current-context and no --context given`);
  const context = config.contexts.get(name);
  if (context === undefined) throw new Error(`${where}: context ${name} not found`);
  const clusterName = str(context, 'cluster', 'kubeconfig context');
  const cluster = clusterName === undefined ? undefined : config.clusters.get(clusterName);
  if (cluster === undefined)
    throw new Error(`${where}: context ${name}: cluster ${clusterName ?? '(none)'} not found`);
  const userName = str(context, 'user', 'kubeconfig context');
  const user = userName === undefined ? undefined : config.users.get(userName);
  if (userName !== undefined && user === undefined)
    throw new Error(`${where}: context ${name}: user ${userName} not found`);
  return { context, cluster, user };
}

function serverUrl(cluster: Named, where: string): URL {
  const server = str(cluster, 'server', 'kubeconfig cluster');
  if (server === undefined) throw new Error(`${where}: cluster ${cluster.name}: server: missing`);
  if (cluster.entry['proxy-url'] !== undefined)
    throw new Error(`kubeconfig cluster ${cluster.name}: proxy-url: not supported by the nodeqos client`);
  const url = new URL(server);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new Error(`kubeconfig cluster ${cluster.name}: server: ${server} is not an http(s) URL`);
  return url;
}

export function kubeconfigConnection(options: KubeconfigOptions = {}): ClusterConnection {
  const paths = options.paths ?? defaultKubeconfigPaths(options.env);
  const config = loadFiles(paths);
  const where = `kubeconfig ${paths.join(':')}`;
  const contextName = options.context ?? config.currentContext;
  const { context, cluster, user } = select(config, where, contextName);
  return {
    server: serverUrl(cluster, where),
    ca: pem(cluster, 'certificate-authority', 'kubeconfig cluster'),
    insecureSkipTlsVerify: cluster.entry['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster, 'tls-server-name', 'kubeconfig cluster'),
    ...credentials(user, options.tokenCheckIntervalMs),
    source: `kubeconfig ${config.files.join(':')} context ${context.name}`,
    namespace: str(context, 'namespace', 'kubeconfig context'),
  };
}

export interface ConnectionOptions {
  /** --kubeconfig: use this file (and nothing else). */
  readonly kubeconfig?: string;
  /** --context: a named context instead of current-context. */
  readonly context?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly serviceAccountDir?: string;
  readonly tokenCheckIntervalMs?: number;
}

/** As loadKubeConfig does for client-node: --kubeconfig, else in-cluster, else $KUBECONFIG / ~/.kube/config. */
export function loadConnection(options: ConnectionOptions = {}): ClusterConnection {
  const env = options.env ?? process.env;
  const common = { env, context: options.context, tokenCheckIntervalMs: options.tokenCheckIntervalMs };
  if (options.kubeconfig !== undefined)
    return kubeconfigConnection({ ...common, paths: [options.kubeconfig] });
  if (env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== '')
    return inClusterConnection({ ...common, serviceAccountDir: options.serviceAccountDir });
  return kubeconfigConnection(common);
}
