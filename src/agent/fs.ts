// The tiny file-system surface the agent reads and writes cgroup and /proc files through. Tests inject a fake
// (to record write order or fail a write with EBUSY); production uses node:fs/promises.
import { access, readdir, readFile, writeFile } from 'node:fs/promises';

export interface AgentFs {
  readFile(path: string): Promise<string>;
  /** One write(2) per call: cgroup files parse a single value (or one device line) per write. */
  writeFile(path: string, data: string): Promise<void>;
  /** Names of the sub-directories of path (no files, no symlinks). */
  listDirs(path: string): Promise<string[]>;
  /** Every entry name of a directory (sysfs lists devices as symlinks). */
  listNames(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
}

export const nodeFs: AgentFs = {
  readFile: async path => readFile(path, 'utf8'),
  writeFile: async (path, data) => {
    await writeFile(path, data, { encoding: 'utf8', flag: 'w' });
  },
  listDirs: async path => {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.filter(entry => entry.isDirectory()).map(entry => entry.name);
  },
  listNames: async path => readdir(path),
  exists: async path => {
    try {
      await access(path);
      return true;
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return false;
      throw error;
    }
  },
};

/** The errno name of a system error ('EBUSY'), or 'UNKNOWN' for anything else. */
export function errnoOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string')
    return error.code;
  return 'UNKNOWN';
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An Error carrying an errno code, as node:fs throws them; fakes use it to inject kernel refusals. */
export function errnoError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}
