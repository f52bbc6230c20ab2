// The CLI's kubectl-style connection: which kubeconfig files, how they merge, contexts, credentials (token, token
// file, client certificate data, exec plugins), and what one GET sends.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { getJson } from '../../src/kube/get-json.ts';
import { kubeconfigFiles, resolveConnection } from '../../src/kube/kubectl-config.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodeqos-kubeconfig-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function kubeconfig(name: string, config: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, stringify({ apiVersion: 'v1', kind: 'Config', ...config }));
  return path;
}

const cluster = (name: string, server: string, extra: Record<string, unknown> = {}): unknown => ({
  name,
  cluster: { server, ...extra },
});
const context = (name: string, clusterName: string, user: string): unknown => ({
  name,
  context: { cluster: clusterName, user },
});

describe('kubeconfig files, as kubectl picks them', () => {
  it('--kubeconfig alone; else every existing file of $KUBECONFIG; else ~/.kube/config', () => {
    const a = kubeconfig('a', {});
    const b = kubeconfig('b', {});
    mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
    writeFileSync(join(dir, 'home', '.kube', 'config'), '{}');
    const env = { KUBECONFIG: `${a}:${join(dir, 'missing')}:${b}`, HOME: join(dir, 'home') };
    expect(kubeconfigFiles(a, env)).toEqual([a]);
    expect(kubeconfigFiles(undefined, env)).toEqual([a, b]);
    expect(kubeconfigFiles(undefined, { HOME: join(dir, 'home') })).toEqual([
      join(dir, 'home', '.kube', 'config'),
    ]);
    expect(kubeconfigFiles(undefined, { HOME: join(dir, 'nohome') })).toEqual([]);
    expect(() => kubeconfigFiles(join(dir, 'nope'), env)).toThrow(/--kubeconfig .*nope: no such file/);
  });

  it('merges $KUBECONFIG files: the first to define a name or current-context wins', () => {
    const first = kubeconfig('first', {
      'current-context': 'one',
      clusters: [cluster('c', 'https://first.example:6443')],
      contexts: [context('one', 'c', 'u')],
      users: [{ name: 'u', user: { token: 'first-token' } }],
    });
    const second = kubeconfig('second', {
      'current-context': 'two',
      clusters: [cluster('c', 'https://second.example:6443'), cluster('d', 'https://d.example')],
      contexts: [context('two', 'd', 'u')],
      users: [{ name: 'u', user: { token: 'second-token' } }],
    });
    const env = { KUBECONFIG: `${first}:${second}` };
    const current = resolveConnection({}, env);
    expect(current).toMatchObject({
      server: 'https://first.example:6443',
      context: 'one',
      token: 'first-token',
      source: `${first}:${second}`,
    });
    expect(resolveConnection({ context: 'two' }, env)).toMatchObject({
      server: 'https://d.example',
      token: 'first-token',
    });
    expect(() => resolveConnection({ context: 'three' }, env)).toThrow(/no context named "three"/);
  });

  it('reads token files, certificates and CAs relative to the kubeconfig, and base64 *-data inline', () => {
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'ca.crt'), 'CA-PEM');
    writeFileSync(join(dir, 'certs', 'token'), 'file-token\n');
    const path = kubeconfig('config', {
      'current-context': 'x',
      clusters: [
        cluster('c', 'https://k.example', {
          'certificate-authority': 'certs/ca.crt',
          'tls-server-name': 'kubernetes',
        }),
      ],
      contexts: [context('x', 'c', 'u')],
      users: [
        {
          name: 'u',
          user: {
            tokenFile: 'certs/token',
            'client-certificate-data': Buffer.from('CERT').toString('base64'),
            'client-key-data': Buffer.from('KEY').toString('base64'),
          },
        },
      ],
    });
    const connection = resolveConnection({ kubeconfig: path }, {});
    expect(connection.ca?.toString()).toBe('CA-PEM');
    expect(connection.cert?.toString()).toBe('CERT');
    expect(connection.key?.toString()).toBe('KEY');
    expect(connection.token).toBe('file-token');
    expect(connection.tlsServerName).toBe('kubernetes');
    expect(connection.insecureSkipTlsVerify).toBe(false);
  });

  it('runs an exec credential plugin with KUBERNETES_EXEC_INFO and its env, and uses the token it prints', () => {
    const plugin = join(dir, 'cred.sh');
    writeFileSync(
      plugin,
      '#!/bin/sh\nprintf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s"}}\' "$GREETING" "$(echo "$KUBERNETES_EXEC_INFO" | grep -c ExecCredential)"\n',
    );
    chmodSync(plugin, 0o755);
    const path = kubeconfig('config', {
      'current-context': 'x',
      clusters: [cluster('c', 'https://k.example')],
      contexts: [context('x', 'c', 'u')],
      users: [
        {
          name: 'u',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: './cred.sh',
              env: [{ name: 'GREETING', value: 'hello' }],
            },
          },
        },
      ],
    });
    expect(resolveConnection({ kubeconfig: path }, {}).token).toBe('hello-1');
  });

  it('explains what is missing: no file at all, no current-context, a context without a cluster', () => {
    expect(() => resolveConnection({}, { HOME: join(dir, 'nohome') })).toThrow(
      'no kubeconfig: ~/.kube/config does not exist and $KUBECONFIG is unset; pass --kubeconfig <file>',
    );
    expect(() => resolveConnection({}, { KUBECONFIG: join(dir, 'gone') })).toThrow(
      /none of the files in \$KUBECONFIG .*gone.* exists/,
    );
    const noCurrent = kubeconfig('nc', { clusters: [cluster('c', 'https://k')] });
    expect(() => resolveConnection({ kubeconfig: noCurrent }, {})).toThrow(
      /no current-context; pass --context <name>/,
    );
    const dangling = kubeconfig('d', { 'current-context': 'x', contexts: [context('x', 'gone', 'u')] });
    expect(() => resolveConnection({ kubeconfig: dangling }, {})).toThrow(
      /context "x" names cluster "gone", which has no server/,
    );
    const legacy = kubeconfig('l', {
      'current-context': 'x',
      clusters: [cluster('c', 'https://k')],
      contexts: [context('x', 'c', 'u')],
      users: [{ name: 'u', user: { 'auth-provider': { name: 'gcp' } } }],
    });
    expect(() => resolveConnection({ kubeconfig: legacy }, {})).toThrow(
      /auth-provider.*exec credential plugin/,
    );
  });
});

describe('getJson', () => {
  it('sends the bearer token and returns the JSON; an error status carries its code and message', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/apis/x/found') {
        res.setHeader('content-type', 'application/json');
        res.end('{"kind":"Thing"}');
      } else {
        res.statusCode = 404;
        res.end('{"kind":"Status","message":"things \\"gone\\" not found"}');
      }
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const connection = {
        server: `http://127.0.0.1:${port}/`,
        source: 'test',
        context: 'test',
        token: 't0ken',
        insecureSkipTlsVerify: false,
      };
      expect(await getJson(connection, '/apis/x/found')).toEqual({ kind: 'Thing' });
      expect(seen[0]?.authorization).toBe('Bearer t0ken');
      await expect(getJson(connection, '/apis/x/gone')).rejects.toMatchObject({
        code: 404,
        message: 'GET /apis/x/gone: HTTP 404: things "gone" not found',
      });
    } finally {
      await new Promise(resolve => server.close(resolve));
    }
  });
});
