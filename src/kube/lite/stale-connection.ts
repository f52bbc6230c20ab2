// A request sent on a kept-alive connection the server had just closed (an API server restarting or dropping
// idle connections) fails with "other side closed" or a reset before any response. The server did not act on it
// (it was closing the connection, not reading a request), so the request is sent once more on a new connection.
// Both clients (KubeHttp and LiteKubeClient) keep connections alive and share this rule.
const staleCodes = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export function isStaleConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && staleCodes.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
