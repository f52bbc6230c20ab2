// State files: one format (checksum + payload), written durably, corrupt ones moved aside with a bounded history.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  keptCorruptCopies,
  quarantine,
  readDurable,
  removeDurable,
  writeDurable,
} from '../../src/agent/durable-file.ts';
import { OriginalValues } from '../../src/agent/restore/original-values.ts';
import { uids } from './helpers/plans.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nodeqos-durable-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('durable state files', () => {
  it('round-trips a payload and leaves no temporary file behind', async () => {
    const path = join(dir, 'sub', 'state.json');
    await writeDurable(path, { a: [1, 2], b: 'x' });
    await writeDurable(path, { a: [3] });
    expect(await readDurable(path)).toEqual({ kind: 'ok', payload: { a: [3] } });
    expect(await readdir(join(dir, 'sub'))).toEqual(['state.json']);
    await removeDurable(path);
    expect(await readDurable(path)).toEqual({ kind: 'none' });
  });

  it('reports truncated, empty, tampered, shapeless files and a directory in the file place', async () => {
    const path = join(dir, 'state.json');
    await writeDurable(path, { value: 1 });
    const good = await readFile(path, 'utf8');
    const cases: [string, RegExp][] = [
      [good.slice(0, good.length / 2), /not JSON/],
      ['', /empty/],
      [good.replace('"value":1', '"value":2'), /checksum mismatch/],
      ['{"value":1}', /missing checksum or payload/],
    ];
    for (const [text, reason] of cases) {
      await writeFile(path, text);
      const read = await readDurable(path);
      expect(read.kind === 'corrupt' ? read.reason : read.kind).toMatch(reason);
    }
    await rm(path);
    await mkdir(path);
    const read = await readDurable(path);
    expect(read.kind === 'corrupt' ? read.reason : read.kind).toMatch(/is a directory/);
  });

  it('keeps only the newest corrupt copies', async () => {
    const path = join(dir, 'state.json');
    for (let i = 0; i < keptCorruptCopies + 3; i++) {
      await writeFile(path, 'garbage');
      await quarantine(path, 1000 + i);
    }
    const left = (await readdir(dir)).sort();
    expect(left).toEqual(
      Array.from({ length: keptCorruptCopies }, (_, k) => `state.json.corrupt-${1000 + 3 + k}`),
    );
  });

  it('the original-values store starts even when its path is a directory, and reports the problem', async () => {
    await mkdir(join(dir, 'original-values.json'));
    const store = await OriginalValues.load(dir, pino({ level: 'silent' }));
    expect(store.loadProblem).toMatch(/is a directory/);
    store.recordIfAbsent(
      { uid: uids.be, namespace: 'n', name: 'p', kubeQoS: 'BestEffort' },
      '',
      'cpu.shares',
      2,
    );
    await store.save();
    const again = await OriginalValues.load(dir, pino({ level: 'silent' }));
    expect(again.loadProblem).toBeUndefined();
    expect(again.get(uids.be, '', 'cpu.shares')).toBe(2);
  });
});
