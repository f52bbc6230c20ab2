// The log levels every long-running command accepts; apart from logger.ts so the CLI can list them without pino.
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
