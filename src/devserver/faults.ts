// Fault injection for chaos tests: failing responses (429/500/503 with Retry-After), added latency, forced
// 410 on watches, and watch drops/stalls (those act on the WatchHub directly, see server.ts).
import { ApiError } from './api-error.ts';

export type Verb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection'
  | 'discovery'
  | 'health';

/** What fault predicates see of a request. */
export interface RequestInfo {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly verb: Verb;
  /** Resource key (`pods`, `nodeqospolicies.nodeqos.io`); undefined for discovery and health. */
  readonly resource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
}

export type RequestMatcher = (request: RequestInfo) => boolean;

export type FailureStatus = 429 | 500 | 503;

export interface FailureRule {
  readonly status: FailureStatus;
  /** How many matching requests fail. */
  readonly count: number;
  readonly retryAfterSeconds?: number;
  /** Which requests fail; all when omitted. */
  readonly match?: RequestMatcher;
}

interface ActiveFailure {
  readonly rule: FailureRule;
  remaining: number;
}

interface LatencyRule {
  readonly ms: number;
  readonly match: RequestMatcher;
}

const failureReasons: Record<FailureStatus, { reason: string; message: string }> = {
  429: { reason: 'TooManyRequests', message: 'Too many requests, please try again later.' },
  500: { reason: 'InternalError', message: 'Internal error occurred: injected fault' },
  503: { reason: 'ServiceUnavailable', message: 'The server is currently unable to handle the request' },
};

const everything: RequestMatcher = () => true;

export class Faults {
  private failures: ActiveFailure[] = [];
  private latencies: LatencyRule[] = [];
  private expiredWatches = 0;

  /** The next `count` matching requests get this status (with a Retry-After header when given). */
  failNext(rule: FailureRule): void {
    if (!Number.isInteger(rule.count) || rule.count < 1)
      throw new Error(`failNext: count must be a positive integer, got ${rule.count}`);
    this.failures.push({ rule, remaining: rule.count });
  }

  /** Delays matching requests (all when no matcher) by `ms` before they are handled. */
  addLatency(ms: number, match: RequestMatcher = everything): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`addLatency: ms must be >= 0, got ${ms}`);
    this.latencies.push({ ms, match });
  }

  clearLatency(): void {
    this.latencies = [];
  }

  /** The next `count` watch requests get an ERROR event with a 410 Status, whatever their resourceVersion. */
  expireNextWatches(count = 1): void {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`expireNextWatches: count must be a positive integer, got ${count}`);
    this.expiredWatches += count;
  }

  /** Removes every pending failure, latency and forced expiry. */
  reset(): void {
    this.failures = [];
    this.latencies = [];
    this.expiredWatches = 0;
  }

  /** Total latency for a request (the server awaits it). */
  latencyFor(request: RequestInfo): number {
    return this.latencies.filter(rule => rule.match(request)).reduce((sum, rule) => sum + rule.ms, 0);
  }

  /** The injected error for this request, consuming one use of the first matching rule. */
  takeFailure(request: RequestInfo): { error: ApiError; headers: Record<string, string> } | undefined {
    const active = this.failures.find(
      failure => failure.remaining > 0 && (failure.rule.match ?? everything)(request),
    );
    if (active === undefined) return undefined;
    active.remaining -= 1;
    this.failures = this.failures.filter(failure => failure.remaining > 0);
    const { status, retryAfterSeconds } = active.rule;
    const { reason, message } = failureReasons[status];
    const details = retryAfterSeconds === undefined ? undefined : { retryAfterSeconds };
    const headers: Record<string, string> =
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) };
    return { error: new ApiError(status, reason, message, details), headers };
  }

  takeWatchExpiry(): boolean {
    if (this.expiredWatches === 0) return false;
    this.expiredWatches -= 1;
    return true;
  }
}
