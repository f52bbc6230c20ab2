// The lite client's connections, on node:http / node:https with one keep-alive agent: what the agent's client
// needs of undici's Pool (a request with a timeout, a streamed body with an inactivity limit) without loading
// undici, whose package entry (fetch, WebSocket, the WASM HTTP parser) cost the agent process about 20 MiB of its
// 80 MB budget (docs/performance.md, "Agent overhead"; docs/decisions/0120).
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PoolTls {
  readonly ca: string | undefined;
  readonly rejectUnauthorized: boolean;
  readonly servername: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

export interface NodePoolOptions {
  /** Connections kept per origin: each open watch holds one, requests share the rest. */
  readonly connections: number;
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveMs: number;
  /** TLS settings (https origins only). */
  readonly tls?: PoolTls | undefined;
}

export interface PoolRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | undefined;
  /** Ends the request (and its body) with an AbortError. */
  readonly signal?: AbortSignal | undefined;
  /** The response body is ended with a BodyTimeoutError when nothing arrives for this long. */
  readonly bodyTimeoutMs?: number | undefined;
  /** The request fails when the response headers take longer than this. */
  readonly headersTimeoutMs?: number | undefined;
}

export interface PoolResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** The body stream (its 'error' carries a BodyTimeoutError after silence). */
  readonly body: IncomingMessage;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
}

/** Nothing arrived on a response body for longer than the request's bodyTimeoutMs. */
export class BodyTimeoutError extends Error {
  override readonly name = 'BodyTimeoutError';
  readonly code = 'BODY_TIMEOUT';
}

function readText(body: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => {
      text += chunk;
    });
    body.on('end', () => {
      resolve(text);
    });
    body.on('error', reject);
    body.on('aborted', () => {
      reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }));
    });
  });
}

/** Destroys the body when no data arrives for `ms` (a watch the server stopped feeding). */
function armBodyTimeout(body: IncomingMessage, ms: number): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      body.destroy(new BodyTimeoutError(`nothing received for ${ms} ms`));
    }, ms);
    timer.unref();
  };
  arm();
  body.on('data', arm);
  body.on('close', () => {
    clearTimeout(timer);
  });
}

export class NodePool {
  readonly #origin: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #tls: PoolTls | undefined;

  constructor(origin: URL, options: NodePoolOptions) {
    this.#origin = origin;
    this.#tls = origin.protocol === 'https:' ? options.tls : undefined;
    const common = { keepAlive: true, maxSockets: options.connections, timeout: options.keepAliveMs };
    this.#agent =
      origin.protocol === 'https:'
        ? new HttpsAgent({
            ...common,
            ca: this.#tls?.ca,
            cert: this.#tls?.cert,
            key: this.#tls?.key,
            rejectUnauthorized: this.#tls?.rejectUnauthorized ?? true,
          })
        : new HttpAgent(common);
  }

  request(options: PoolRequest): Promise<PoolResponse> {
    return new Promise((resolve, reject) => {
      const headers =
        options.body === undefined
          ? options.headers
          : { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) };
      const send = this.#origin.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send({
        agent: this.#agent,
        protocol: this.#origin.protocol,
        hostname: this.#origin.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: this.#origin.port,
        path: options.path,
        method: options.method,
        headers,
        signal: options.signal,
        ...(this.#tls?.servername === undefined ? {} : { servername: this.#tls.servername }),
      });
      const headersTimer =
        options.headersTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              request.destroy(
                Object.assign(new Error(`no response headers within ${options.headersTimeoutMs} ms`), {
                  code: 'HEADERS_TIMEOUT',
                }),
              );
            }, options.headersTimeoutMs);
      request.on('response', body => {
        clearTimeout(headersTimer);
        if (options.bodyTimeoutMs !== undefined) armBodyTimeout(body, options.bodyTimeoutMs);
        resolve({
          statusCode: body.statusCode ?? 0,
          headers: body.headers,
          body,
          text: () => readText(body),
        });
      });
      request.on('error', error => {
        clearTimeout(headersTimer);
        reject(error);
      });
      request.end(options.body);
    });
  }

  /** Closes every connection (open requests and watches end). */
  destroy(): void {
    this.#agent.destroy();
  }
}
