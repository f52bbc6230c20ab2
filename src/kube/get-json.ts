// One GET against the API server with a kubectl-style Connection, on node:http(s): what a one-request CLI command
// needs, without loading a Kubernetes client library.
import type { IncomingMessage } from 'node:http';
import type { Connection } from './kubectl-config.ts';

export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  /** The HTTP status, under the name kube/errors.ts reads. */
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.code = code;
  }
}

function body(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    response.on('error', reject);
  });
}

export async function getJson(connection: Connection, path: string, timeoutMs = 30_000): Promise<unknown> {
  const url = new URL(connection.server.replace(/\/$/, '') + path);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'nodeqos-cli' };
  if (connection.token !== undefined) headers.authorization = `Bearer ${connection.token}`;
  else if (connection.basicAuth !== undefined) headers.authorization = `Basic ${connection.basicAuth}`;
  const https = url.protocol === 'https:';
  // Only the module the URL needs: node:https brings TLS and crypto, a measurable part of a CLI's start.
  const send = https ? (await import('node:https')).request : (await import('node:http')).request;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'GET',
        headers,
        timeout: timeoutMs,
        ...(https
          ? {
              ca: connection.ca,
              cert: connection.cert,
              key: connection.key,
              rejectUnauthorized: !connection.insecureSkipTlsVerify,
              servername: connection.tlsServerName,
            }
          : {}),
      },
      resolve,
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url.href}: no answer in ${timeoutMs} ms`)));
    req.on('error', error => {
      reject(
        new Error(`GET ${url.href} (context ${connection.context}): ${error.message}`, { cause: error }),
      );
    });
    req.end();
  });
  const text = await body(response);
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    let message = text.slice(0, 500);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not a Status object: keep the text
    }
    throw new ApiStatusError(`GET ${path}: HTTP ${status}${message ? `: ${message}` : ''}`, status);
  }
  return JSON.parse(text) as unknown;
}
