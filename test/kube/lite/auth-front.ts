// An authenticating TLS front for the dev server (which knows only the tokens it issues itself): real certificates
// made with openssl (a CA, a server certificate for 127.0.0.1, a client certificate), client-certificate and
// bearer-token authentication as a kube-apiserver does them, and every request passed on to the dev server,
// watches streamed. Like an authenticating front proxy it consumes the credentials: the Authorization header
// is not passed on, so the dev server sees its loopback administrator.
// Tokens are checked against a function, so a test can revoke the old token when it rotates the file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';

export interface Certificates {
  readonly dir: string;
  readonly caPath: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

export function removeCertificates(certificates: Certificates): void {
  rmSync(certificates.dir, { recursive: true, force: true });
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate with CN `clientName`. */
export function makeCertificates(clientName: string): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'nodeqos-lite-tls-'));
  openssl(
    dir,
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'].concat([
      '-days',
      '1',
      '-subj',
      '/CN=nodeqos-test-ca',
    ]),
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    dir,
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr'].concat([
      '-subj',
      '/CN=kube-apiserver',
    ]),
  );
  openssl(
    dir,
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'server.crt',
      '-days',
      '1',
      '-extfile',
      'server.ext',
    ]),
  );
  openssl(
    dir,
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr'].concat([
      '-subj',
      `/O=system:nodes/CN=${clientName}`,
    ]),
  );
  openssl(
    dir,
    ['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'client.crt',
      '-days',
      '1',
    ]),
  );
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    caPath: join(dir, 'ca.crt'),
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
  };
}

export interface AuthFront {
  readonly url: string;
  readonly port: number;
  /** Who each request authenticated as (`token:<token>`, `cert:<CN>`), or `denied`, in order. */
  readonly log: string[];
  /** Distinct TLS connections the front accepted. */
  connections(): number;
  close(): Promise<void>;
}

export interface AuthFrontOptions {
  readonly certificates: Certificates;
  /** The dev server's http URL. */
  readonly upstream: string;
  /** Whether a bearer token is valid now. */
  readonly tokenValid: (token: string) => boolean;
}

export async function startAuthFront(options: AuthFrontOptions): Promise<AuthFront> {
  const { certificates, upstream, tokenValid } = options;
  const log: string[] = [];
  let connections = 0;
  const server: Server = createServer(
    {
      cert: certificates.serverCert,
      key: certificates.serverKey,
      ca: certificates.ca,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const socket = req.socket;
      const header = req.headers.authorization;
      let who: string | undefined;
      if (socket instanceof TLSSocket && socket.authorized)
        who = `cert:${String(socket.getPeerCertificate().subject.CN)}`;
      else if (header?.startsWith('Bearer ') === true && tokenValid(header.slice(7)))
        who = `token:${header.slice(7)}`;
      log.push(who ?? 'denied');
      if (who === undefined) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'Unauthorized',
            code: 401,
          }),
        );
        return;
      }
      const headers = { ...req.headers };
      delete headers.authorization;
      const forward = httpRequest(
        `${upstream}${req.url ?? '/'}`,
        { method: req.method, headers: { ...headers, host: new URL(upstream).host } },
        upstreamRes => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          // A watch sends nothing until its first event: the client must see the headers now.
          res.flushHeaders();
          upstreamRes.pipe(res);
          // An upstream connection cut mid-stream (a dropped watch) is cut here too, not left hanging.
          upstreamRes.on('aborted', () => res.destroy());
          upstreamRes.on('error', () => res.destroy());
        },
      );
      forward.on('error', () => res.destroy());
      res.on('close', () => forward.destroy());
      req.pipe(forward);
    },
  );
  server.on('secureConnection', () => {
    connections++;
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    log,
    connections: () => connections,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
