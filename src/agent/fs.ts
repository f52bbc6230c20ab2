// The tiny file-system surface the agent reads and writes cgroup, /proc and /sys files through. Tests inject a fake
// (to record write order or fail a write with EBUSY); production uses nodeFs.
//
// nodeFs makes synchronous system calls behind the async interface: cgroupfs, procfs and sysfs live in kernel
// memory and never wait on a disk, so a read or write is one system call that returns at once, where
// node:fs/promises' readFile is four (open, fstat, read, close), each a round trip through libuv's thread pool.
// Measured on the real kernel (bench/agent-apply.bench.ts, docs/performance.md "Agent apply"): a 110-pod full
// apply 1103 ms with fs/promises against 361 ms synchronous, a no-op pass 855 ms against 74 ms. A write can still
// take the kernel time (memory reclaim when a limit is lowered below usage): that stalls the agent's event loop
// for as long as it would have held the write in flight, and the executor runs one write at a time anyway.
import { accessSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

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

/** Runs a synchronous call and hands its result (or its error) back as a promise, as the interface promises. */
function settled<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

export const nodeFs: AgentFs = {
  readFile: path => settled(() => readFileSync(path, 'utf8')),
  writeFile: (path, data) =>
    settled(() => {
      writeFileSync(path, data, { encoding: 'utf8', flag: 'w' });
    }),
  listDirs: path =>
    settled(() =>
      readdirSync(path, { withFileTypes: true })
        .filter(entry => entry.isDirectory())
        .map(entry => entry.name),
    ),
  listNames: path => settled(() => readdirSync(path)),
  exists: path =>
    settled(() => {
      try {
        accessSync(path);
        return true;
      } catch (error) {
        if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return false;
        throw error;
      }
    }),
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
