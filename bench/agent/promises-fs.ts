// The AgentFs the agent shipped before issue 11 (node:fs/promises), kept for the apply benchmark's side-by-side:
// the shipped nodeFs makes synchronous calls (src/agent/fs.ts says why); this shows what that choice saves.
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { errnoOf, type AgentFs } from '../../src/agent/fs.ts';

export const promisesFs: AgentFs = {
  readFile: async path => readFile(path, 'utf8'),
  writeFile: async (path, data) => {
    await writeFile(path, data, { encoding: 'utf8', flag: 'w' });
  },
  listDirs: async path =>
    (await readdir(path, { withFileTypes: true })).filter(e => e.isDirectory()).map(e => e.name),
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
