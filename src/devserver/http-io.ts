// Reading request bodies (JSON, or YAML for apply patches) and writing JSON responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest } from './api-error.ts';
import type { JsonObject, JsonValue } from './json.ts';

/** Same limit as a real API server's request body limit. */
const maxBodyBytes = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes)
      throw new ApiError(413, 'RequestEntityTooLarge', `request body larger than ${maxBodyBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The media type without parameters (`application/json; charset=utf-8` -> `application/json`). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function parseJsonBody(body: Buffer): JsonValue {
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function parseYamlBody(body: Buffer): JsonValue {
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    return parseYaml(text, { schema: 'core' }) as JsonValue;
  } catch (error) {
    throw badRequest(`the request body is not valid YAML: ${(error as Error).message}`);
  }
}

/**
 * An apply-patch+yaml body: clients (kubectl --server-side, client-node) send JSON, which is YAML too but
 * parses about 50 times faster with JSON.parse, so a body that starts with `{` is read as JSON.
 */
export function parseApplyBody(body: Buffer): JsonValue {
  const text = body.toString('utf8');
  return text.trimStart().startsWith('{') ? parseJsonBody(body) : parseYamlBody(body);
}

export interface Reply {
  readonly status: number;
  readonly body: JsonObject | string;
  readonly warnings?: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
}

function warningHeader(text: string): string {
  return `299 - ${JSON.stringify(text)}`;
}

export function sendReply(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
    ...reply.headers,
  };
  if (reply.warnings !== undefined && reply.warnings.length > 0)
    headers.Warning = reply.warnings.map(warningHeader);
  res.writeHead(reply.status, headers);
  res.end(text);
}

export function errorReply(error: ApiError, headers?: Readonly<Record<string, string>>): Reply {
  return { status: error.code, body: error.toStatus(), ...(headers === undefined ? {} : { headers }) };
}
