// An AgentFs on node:fs's synchronous calls, for a what-if in the apply benchmark (not what the agent ships).
// cgroupfs and procfs files live in kernel memory and never wait on a disk, so a synchronous read or write costs
// one system call; node:fs/promises readFile costs four (open, fstat, read, close), each a trip through libuv's
// thread pool. The same agent with this fs shows how much of an apply is that per-file overhead.
import { accessSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { errnoOf, type AgentFs } from '../../src/agent/fs.ts';

export const syncFs: AgentFs = {
  readFile: async path => readFileSync(path, 'utf8'),
  writeFile: async (path, data) => {
    writeFileSync(path, data, { encoding: 'utf8', flag: 'w' });
  },
  listDirs: async path =>
    readdirSync(path, { withFileTypes: true })
      .filter(entry => entry.isDirectory())
      .map(entry => entry.name),
  listNames: async path => readdirSync(path),
  exists: async path => {
    try {
      accessSync(path);
      return true;
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return false;
      throw error;
    }
  },
};
