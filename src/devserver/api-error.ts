// Errors the dev server answers with, rendered as metav1.Status objects like a real API server's.
import type { JsonObject } from './json.ts';

export interface StatusCause {
  readonly reason: string;
  readonly message: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details !== undefined) status.details = JSON.parse(JSON.stringify(this.details)) as JsonObject;
    return status;
  }
}

/** How errors name a resource: `key` is `plural` or `plural.group`. */
export interface ResourceNames {
  readonly key: string;
  readonly group: string;
  readonly plural: string;
}

export function resourceNamesOf(key: string): ResourceNames {
  const dot = key.indexOf('.');
  return dot < 0
    ? { key, group: '', plural: key }
    : { key, group: key.slice(dot + 1), plural: key.slice(0, dot) };
}

type TypeNames = ResourceNames;

export function notFound(type: TypeNames, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${type.key} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.plural,
  });
}

export function alreadyExists(type: TypeNames, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${type.key} "${name}" already exists`, {
    name,
    group: type.group,
    kind: type.plural,
  });
}

export function conflict(type: TypeNames, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${type.key} "${name}": ${why}`, {
    name,
    group: type.group,
    kind: type.plural,
  });
}

export const staleResourceVersion =
  'the object has been modified; please apply your changes to the latest version and try again';

function qualifiedKind(type: TypeNames & { readonly kind: string }): string {
  return type.group === '' ? type.kind : `${type.kind}.${type.group}`;
}

export function causeText(cause: StatusCause): string {
  return cause.field === undefined ? cause.message : `${cause.field}: ${cause.message}`;
}

export function invalid(
  type: TypeNames & { readonly kind: string },
  name: string,
  causes: readonly StatusCause[],
): ApiError {
  const texts = causes.map(causeText);
  const summary = texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind(type)} "${name}" is invalid: ${summary}`, {
    name,
    group: type.group,
    kind: type.kind,
    causes,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function routeNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
}

export function methodNotAllowed(method: string, what: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `the server does not allow method ${method} on ${what}`);
}

export function unsupportedMediaType(accepted: readonly string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
}

/** A bearer token the server does not know, that expired, or whose bound object is gone. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}
