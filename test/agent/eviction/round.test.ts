import { describe, expect, it } from 'vitest';
import { EvictionCoolDown } from '../../../src/agent/eviction/cool-down.ts';
import { rankBEVictims, type EvictionCandidate } from '../../../src/agent/eviction/ranking.ts';
import { evictionRound, type EvictOutcome } from '../../../src/agent/eviction/round.ts';

function pod(name: string, usage: number, index: number): EvictionCandidate {
  return {
    uid: `00000000-0000-0000-0000-00000000000${index}`,
    key: `ns/${name}`,
    namespace: 'ns',
    name,
    qosClass: 'BE',
    priority: undefined,
    usage,
    request: 0,
  };
}

const { ranked } = rankBEVictims([pod('big', 500, 1), pod('mid', 300, 2), pod('small', 100, 3)], 0);

/** The API server's answers, by pod name; asked records the order of the calls. */
function server(answers: Record<string, EvictOutcome['kind']>): {
  asked: string[];
  evict: (p: { name: string }) => Promise<EvictOutcome>;
} {
  const asked: string[] = [];
  return {
    asked,
    evict: p => {
      asked.push(p.name);
      const kind = answers[p.name] ?? 'evicted';
      return Promise.resolve(
        kind === 'evicted' || kind === 'gone'
          ? { kind }
          : { kind, reason: kind === 'refused' ? '429 disruption budget' : '503' },
      );
    },
  };
}

describe('evictionRound', () => {
  it('stops as soon as the credit reaches the target and starts the cool-down', async () => {
    const coolDown = new EvictionCoolDown(30);
    const api = server({});
    const result = await evictionRound({
      ranked,
      target: 600,
      pending: 0,
      coolDown,
      now: 1000,
      evict: api.evict,
    });
    expect(api.asked).toEqual(['big', 'mid']);
    expect(result.credited).toBe(800);
    expect(coolDown.roundAllowed(1000 + 29_999)).toBe(false);
    expect(coolDown.roundAllowed(1000 + 30_000)).toBe(true);
  });

  it('a PDB refusal (429) moves on to the next pod and retries the refused one only after the cool-down', async () => {
    const coolDown = new EvictionCoolDown(30);
    const first = server({ big: 'refused' });
    const r1 = await evictionRound({ ranked, target: 350, pending: 0, coolDown, now: 0, evict: first.evict });
    expect(first.asked).toEqual(['big', 'mid', 'small']);
    expect(r1.refused.map(r => [r.pod.name, r.reason])).toEqual([['big', '429 disruption budget']]);
    expect(r1.evicted.map(p => p.name)).toEqual(['mid', 'small']);

    // Within the cool-down the refused pod is not asked again.
    const second = server({});
    const r2 = await evictionRound({
      ranked,
      target: 1,
      pending: 0,
      coolDown,
      now: 29_000,
      evict: second.evict,
    });
    expect(second.asked).toEqual(['mid']);
    expect(r2.waiting.map(p => p.name)).toEqual(['big']);

    // After it, the refused pod is first in rank again and asked again.
    const third = server({});
    await evictionRound({ ranked, target: 1, pending: 0, coolDown, now: 30_000, evict: third.evict });
    expect(third.asked).toEqual(['big']);
  });

  it('a round the API server refused entirely does not start the round cool-down', async () => {
    const coolDown = new EvictionCoolDown(30);
    const api = server({ big: 'refused', mid: 'refused', small: 'failed' });
    const result = await evictionRound({
      ranked,
      target: 50,
      pending: 0,
      coolDown,
      now: 0,
      evict: api.evict,
    });
    expect(result.evicted).toEqual([]);
    expect(result.credited).toBe(0);
    expect(coolDown.roundAllowed(1)).toBe(true);
  });

  it('a pod already gone (404) counts as released; pending credit asks for fewer pods', async () => {
    const coolDown = new EvictionCoolDown(30);
    const api = server({ big: 'gone' });
    const result = await evictionRound({
      ranked,
      target: 700,
      pending: 250,
      coolDown,
      now: 0,
      evict: api.evict,
    });
    expect(api.asked).toEqual(['big']);
    expect(result.credited).toBe(750);
  });

  it('an agent that just started waits one cool-down before its first round', () => {
    const coolDown = new EvictionCoolDown(20, 5000);
    expect(coolDown.roundAllowed(24_999)).toBe(false);
    expect(coolDown.roundAllowed(25_000)).toBe(true);
  });
});
