// HTTP status of an error from client-node (ApiException.code) or its Watch (statusCode).
export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { code?: unknown; statusCode?: unknown };
  if (typeof record.code === 'number') return record.code;
  if (typeof record.statusCode === 'number') return record.statusCode;
  return undefined;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

export const isNotFound = (error: unknown): boolean => statusCodeOf(error) === 404;
export const isConflict = (error: unknown): boolean => statusCodeOf(error) === 409;
export const isGone = (error: unknown): boolean => statusCodeOf(error) === 410;
