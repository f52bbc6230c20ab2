// The original-values record: first value wins, persisted with a checksum, unusable files reported and set aside.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OriginalValues } from '../../../src/agent/restore/original-values.ts';
import { uids } from '../helpers/plans.ts';

const logger = pino({ enabled: false });
const pod = { uid: uids.lse, namespace: 'default', name: 'lse', kubeQoS: 'Guaranteed' as const };
let stateDir = '';
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'nodeqos-orig-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('original values', () => {
  it('keeps the first value per pod, dir and file, and survives a reload', async () => {
    const store = await OriginalValues.load(stateDir, logger);
    store.recordIfAbsent(pod, '', 'cpu.shares', 1024);
    store.recordIfAbsent(pod, '', 'cpu.shares', 4096);
    store.recordIfAbsent(pod, 'c1', 'cpuset.cpus', '0-3');
    await store.save();
    const reloaded = await OriginalValues.load(stateDir, logger);
    expect(reloaded.loadProblem).toBeUndefined();
    expect(reloaded.get(pod.uid, '', 'cpu.shares')).toBe(1024);
    expect(reloaded.pod(pod.uid)).toMatchObject({ kubeQoS: 'Guaranteed', name: 'lse' });
    reloaded.keepContainers(pod.uid, new Set());
    expect(reloaded.get(pod.uid, 'c1', 'cpuset.cpus')).toBeUndefined();
    expect(reloaded.get(pod.uid, '', 'cpu.shares')).toBe(1024);
  });

  it('reports a tampered file, sets it aside and marks new records suspect', async () => {
    const store = await OriginalValues.load(stateDir, logger);
    store.recordIfAbsent(pod, '', 'cpu.shares', 1024);
    await store.save();
    const path = join(stateDir, 'original-values.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('1024', '2048'));
    const reloaded = await OriginalValues.load(stateDir, logger);
    expect(reloaded.loadProblem).toBe('checksum mismatch');
    expect(reloaded.uids()).toEqual([]);
    expect((await readdir(stateDir)).some(name => name.startsWith('original-values.json.corrupt-'))).toBe(
      true,
    );
    reloaded.recordIfAbsent(pod, '', 'cpu.shares', 2048);
    expect(reloaded.pod(pod.uid)?.suspect).toBe(true);
  });

  it('reports unparsable JSON', async () => {
    await writeFile(join(stateDir, 'original-values.json'), 'not json');
    expect((await OriginalValues.load(stateDir, logger)).loadProblem).toMatch(/^not JSON/);
  });

  it('refuses a relative state dir', async () => {
    await expect(OriginalValues.load('relative/dir', logger)).rejects.toThrow(/absolute/);
  });
});
