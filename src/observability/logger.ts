// pino, structured JSON on stderr (stdout stays for command output).
import { pino, type Logger } from 'pino';
import type { LogLevel } from './log-levels.ts';

export { logLevels, type LogLevel } from './log-levels.ts';

export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  return pino({ name, level, base: { component: name } }, pino.destination(2));
}
