// An API server's refusal, carrying its HTTP status (statusCode, which src/kube/errors.ts reads) and the Status
// object it sent. Shared by the lite client and KubeHttp, so isGone/isConflict/isNotFound work on both.
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  readonly status: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(request: string, statusCode: number, status: unknown, retryAfter: string | null) {
    const message = (status as { message?: string } | undefined)?.message ?? '';
    super(`${request}: HTTP ${statusCode}${message ? `: ${message}` : ''}`);
    this.statusCode = statusCode;
    this.status = status;
    const seconds = retryAfter === null ? NaN : Number(retryAfter);
    this.retryAfterSeconds = Number.isFinite(seconds) ? seconds : undefined;
  }
}

/**
 * A watch that received nothing (not even a bookmark) for its inactivity limit: the connection is presumed
 * half-open. Its name is `TimeoutError`, which the Informer treats as a clean end and resumes from its
 * resourceVersion, as it does for client-node's own inactivity timeout.
 */
export class WatchInactivityError extends Error {
  override readonly name = 'TimeoutError';
}
