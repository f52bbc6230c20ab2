import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlanCache } from '../../../src/agent/runtime/plan-cache.ts';
import { planNode } from '../../../src/plan/plan-node.ts';
import { node, pod, policy } from '../../plan/fixtures.ts';

const plan = planNode({ policy: policy(), node: node('4'), pods: [pod({ cpu: '1' })] });

describe('PlanCache', () => {
  it('round-trips the last good plan', async () => {
    const cache = new PlanCache(mkdtempSync(join(tmpdir(), 'nodeqos-cache-')));
    expect(await cache.load('n1')).toEqual({ kind: 'none' });
    await cache.save(plan);
    expect(await cache.load('n1')).toEqual({ kind: 'ok', plan });
    await cache.clear();
    expect(await cache.load('n1')).toEqual({ kind: 'none' });
  });

  it('detects truncation, tampering, invalid plans and plans of another node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nodeqos-cache-'));
    const cache = new PlanCache(dir);
    await cache.save(plan);
    const text = readFileSync(cache.path, 'utf8');
    writeFileSync(cache.path, text.slice(0, text.length / 2));
    const truncated = await cache.load('n1');
    expect(truncated.kind === 'corrupt' && truncated.reason).toMatch(/truncated/);
    writeFileSync(cache.path, text.replace('"oomScoreAdj":-300', '"oomScoreAdj":-1000'));
    expect(await cache.load('n1')).toMatchObject({ kind: 'corrupt', reason: 'checksum mismatch' });
    await cache.save(plan);
    const foreign = await cache.load('other-node');
    expect(foreign.kind === 'corrupt' && foreign.reason).toMatch(/other-node/);
  });
});
