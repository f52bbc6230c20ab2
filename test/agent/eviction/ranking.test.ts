import { describe, expect, it } from 'vitest';
import { rankBEVictims, type EvictionCandidate } from '../../../src/agent/eviction/ranking.ts';
import { victimsFor } from '../../../src/agent/eviction/victims.ts';

const Mi = 1024 * 1024;
let next = 0;
function pod(name: string, fields: Partial<EvictionCandidate> = {}): EvictionCandidate {
  next++;
  return {
    uid: `00000000-0000-0000-0000-${String(next).padStart(12, '0')}`,
    key: `ns/${name}`,
    namespace: 'ns',
    name,
    qosClass: 'BE',
    priority: undefined,
    usage: 100 * Mi,
    request: 0,
    ...fields,
  };
}

const names = (pods: readonly { name: string }[]): string[] => pods.map(p => p.name);

describe('rankBEVictims', () => {
  it("follows seed 003's order: priority, then usage above request, then usage", () => {
    const { ranked } = rankBEVictims(
      [
        pod('high-priority-hog', { priority: 100, usage: 900 * Mi }),
        pod('under-request', { usage: 300 * Mi, request: 400 * Mi }),
        pod('over-by-100', { usage: 300 * Mi, request: 200 * Mi }),
        pod('over-by-250', { usage: 250 * Mi, request: 0 }),
        pod('negative-priority', { priority: -5, usage: 10 * Mi }),
      ],
      1000,
    );
    expect(names(ranked)).toEqual([
      'negative-priority',
      'over-by-250',
      'over-by-100',
      'under-request',
      'high-priority-hog',
    ]);
  });

  it('breaks an equal overshoot by usage, then by namespace/name, whatever the input order', () => {
    const pods = [
      pod('b', { usage: 200 * Mi, request: 100 * Mi }),
      pod('small', { usage: 150 * Mi, request: 50 * Mi }),
      pod('a', { usage: 200 * Mi, request: 100 * Mi }),
    ];
    expect(names(rankBEVictims(pods, 0).ranked)).toEqual(['a', 'b', 'small']);
    expect(names(rankBEVictims([...pods].reverse(), 0).ranked)).toEqual(['a', 'b', 'small']);
  });

  it('puts pods without a usage sample last and credits them nothing', () => {
    const { ranked } = rankBEVictims([pod('unmeasured', { usage: undefined }), pod('measured')], 0);
    expect(names(ranked)).toEqual(['measured', 'unmeasured']);
    expect(ranked[1]?.credit).toBe(0);
  });

  it('never offers a pod above the priority threshold, nor a pod that is not BE', () => {
    const { ranked, exempt } = rankBEVictims(
      [
        pod('at-threshold', { priority: 5000 }),
        pod('above', { priority: 5001, usage: 4000 * Mi }),
        pod('ls', { qosClass: 'LS', usage: 8000 * Mi }),
        pod('lse', { qosClass: 'LSE' }),
      ],
      5000,
    );
    expect(names(ranked)).toEqual(['at-threshold']);
    expect(exempt).toEqual([
      { key: 'ns/above', reason: 'priority above threshold' },
      { key: 'ns/ls', reason: 'not BE' },
      { key: 'ns/lse', reason: 'not BE' },
    ]);
  });

  it('counts a pod without spec.priority as priority 0', () => {
    const { ranked } = rankBEVictims(
      [pod('zero', { usage: 999 * Mi }), pod('one', { priority: 1 }), pod('minus', { priority: -1 })],
      -1,
    );
    expect(names(ranked)).toEqual(['minus']);
  });
});

describe('victimsFor', () => {
  const { ranked } = rankBEVictims(
    [pod('a', { usage: 500 * Mi }), pod('b', { usage: 300 * Mi }), pod('c', { usage: 200 * Mi })],
    0,
  );

  it('takes the shortest prefix that reaches the target: never more than needed plus one pod', () => {
    expect(names(victimsFor(ranked, 1))).toEqual(['a']);
    expect(names(victimsFor(ranked, 500 * Mi))).toEqual(['a']);
    expect(names(victimsFor(ranked, 500 * Mi + 1))).toEqual(['a', 'b']);
    expect(names(victimsFor(ranked, 800 * Mi + 1))).toEqual(['a', 'b', 'c']);
    expect(names(victimsFor(ranked, 5000 * Mi))).toEqual(['a', 'b', 'c']);
  });

  it('takes nothing for a target of 0, and counts what terminating pods will still release', () => {
    expect(victimsFor(ranked, 0)).toEqual([]);
    expect(names(victimsFor(ranked, 700 * Mi, 300 * Mi))).toEqual(['a']);
    expect(victimsFor(ranked, 700 * Mi, 700 * Mi)).toEqual([]);
  });
});
