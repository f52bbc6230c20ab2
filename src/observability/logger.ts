// pino, structured JSON on stderr (stdout stays for command output).
import { pino, type Logger } from 'pino';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  return pino({ name, level, base: { component: name } }, pino.destination(2));
}
