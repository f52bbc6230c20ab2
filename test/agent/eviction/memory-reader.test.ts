import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgroupWorkingSet, memTotalBytes } from '../../../src/agent/eviction/memory-reader.ts';
import { nodeFs } from '../../../src/agent/fs.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nodeqos-memory-reader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cgroupWorkingSet', () => {
  it('v1: usage_in_bytes minus total_inactive_file (not the local inactive_file)', async () => {
    await writeFile(join(dir, 'memory.usage_in_bytes'), '1000000\n');
    await writeFile(join(dir, 'memory.stat'), 'inactive_file 5\ntotal_inactive_file 300000\ntotal_anon 1\n');
    expect(await cgroupWorkingSet(nodeFs, dir, 'v1')).toBe(700000);
  });

  it('v2: memory.current minus inactive_file', async () => {
    await writeFile(join(dir, 'memory.current'), '1000000\n');
    await writeFile(join(dir, 'memory.stat'), 'anon 10\nfile 20\ninactive_file 250000\n');
    expect(await cgroupWorkingSet(nodeFs, dir, 'v2')).toBe(750000);
  });

  it('v2 root (no memory.current): anon + file minus inactive_file, floored at 0', async () => {
    await writeFile(join(dir, 'memory.stat'), 'anon 600\nfile 400\ninactive_file 300\n');
    expect(await cgroupWorkingSet(nodeFs, dir, 'v2')).toBe(700);
    await writeFile(join(dir, 'memory.stat'), 'anon 100\nfile 0\ninactive_file 300\n');
    expect(await cgroupWorkingSet(nodeFs, dir, 'v2')).toBe(0);
  });

  it('refuses a value that is not a byte count rather than guessing', async () => {
    await writeFile(join(dir, 'memory.current'), 'max\n');
    await writeFile(join(dir, 'memory.stat'), 'inactive_file 0\n');
    await expect(cgroupWorkingSet(nodeFs, dir, 'v2')).rejects.toThrow(/not a byte count/);
  });
});

describe('memTotalBytes', () => {
  it('reads MemTotal in kB as bytes', async () => {
    await writeFile(join(dir, 'meminfo'), 'MemTotal:       16384000 kB\nMemFree:         1000 kB\n');
    expect(await memTotalBytes(nodeFs, dir)).toBe(16384000 * 1024);
  });
});
