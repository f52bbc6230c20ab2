import { describe, expect, it } from 'vitest';
import { DriftCursor } from '../../../src/agent/runtime/drift-cursor.ts';

describe('the drift check cursor', () => {
  it('hands out a few pods at a time in uid order, wrapping round, so each pod comes once per round', () => {
    const cursor = new DriftCursor(2);
    const uids = ['e', 'a', 'c', 'b', 'd'];
    expect(cursor.steps(uids.length)).toBe(3);
    const shares = [cursor.next(uids), cursor.next(uids), cursor.next(uids), cursor.next(uids)];
    expect(shares.map(s => [...s.pods])).toEqual([['a', 'b'], ['c', 'd'], ['e'], ['a', 'b']]);
    expect(shares.map(s => s.roundStart)).toEqual([true, false, false, true]);
  });

  it('follows pods that come and go between steps', () => {
    const cursor = new DriftCursor(2);
    expect([...cursor.next(['a', 'b', 'c', 'd']).pods]).toEqual(['a', 'b']);
    // b left, a new pod bb sorts after it: the next share starts after the last uid handed out.
    expect([...cursor.next(['a', 'bb', 'c']).pods]).toEqual(['bb', 'c']);
    expect([...cursor.next([]).pods]).toEqual([]);
    expect(cursor.steps(0)).toBe(1);
  });

  it('refuses a share size that is not a positive integer', () => {
    expect(() => new DriftCursor(0)).toThrow(RangeError);
  });
});
