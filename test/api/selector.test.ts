import { describe, expect, it } from 'vitest';
import { selectorMatches, selectorsOverlap } from '../../src/api/selector.ts';

describe('label selectors', () => {
  const labels = { zone: 'a', tier: 'gold' };
  it('matches matchLabels and every operator', () => {
    expect(selectorMatches(undefined, labels)).toBe(true);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { zone: 'a' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { zone: 'b' } }, labels)).toBe(false);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'x'] }] }, labels),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] }, labels),
    ).toBe(false);
    expect(
      selectorMatches({ matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['x'] }] }, labels),
    ).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(
      false,
    );
  });

  it('detects overlap conservatively and proves disjointness on contradicting keys', () => {
    expect(selectorsOverlap({}, { matchLabels: { a: 'b' } })).toBe(true);
    expect(selectorsOverlap({ matchLabels: { p: 'x' } }, { matchLabels: { p: 'y' } })).toBe(false);
    expect(selectorsOverlap({ matchLabels: { p: 'x' } }, { matchLabels: { q: 'y' } })).toBe(true);
    expect(
      selectorsOverlap(
        { matchExpressions: [{ key: 'p', operator: 'In', values: ['a', 'b'] }] },
        { matchExpressions: [{ key: 'p', operator: 'NotIn', values: ['a', 'b'] }] },
      ),
    ).toBe(false);
    expect(
      selectorsOverlap(
        { matchExpressions: [{ key: 'p', operator: 'Exists' }] },
        { matchExpressions: [{ key: 'p', operator: 'DoesNotExist' }] },
      ),
    ).toBe(false);
  });
});
