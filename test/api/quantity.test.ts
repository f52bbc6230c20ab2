import { describe, expect, it } from 'vitest';
import { bandwidthToBits, cpuToMilli, memoryToBytes } from '../../src/api/quantity.ts';

describe('quantities', () => {
  it('parses CPU into millicores, rounding up like Kubernetes', () => {
    expect(cpuToMilli('2')).toBe(2000);
    expect(cpuToMilli('250m')).toBe(250);
    expect(cpuToMilli('1.5')).toBe(1500);
    expect(cpuToMilli('0.0001')).toBe(1);
    expect(cpuToMilli(3)).toBe(3000);
    expect(cpuToMilli('1e3')).toBe(1_000_000);
  });

  it('parses memory into bytes, binary and decimal suffixes', () => {
    expect(memoryToBytes('4Gi')).toBe(4 * 2 ** 30);
    expect(memoryToBytes('128974848')).toBe(128974848);
    expect(memoryToBytes('129e6')).toBe(129_000_000);
    expect(memoryToBytes('123Mi')).toBe(123 * 2 ** 20);
    expect(memoryToBytes('1G')).toBe(1e9);
  });

  it('rejects garbage, negatives, NaN, Infinity and values beyond the safe range', () => {
    for (const bad of ['abc', '1Qi', '', '-1', '../1', 'NaN', '1e400'])
      expect(() => memoryToBytes(bad)).toThrow();
    expect(() => cpuToMilli(Number.POSITIVE_INFINITY)).toThrow();
    expect(() => memoryToBytes('100Ei')).toThrow(/out of range/);
  });

  it('parses tc bandwidths to bits per second', () => {
    expect(bandwidthToBits('500Mbit')).toBe(500_000_000);
    expect(bandwidthToBits('1gbit')).toBe(1_000_000_000);
    expect(bandwidthToBits('10mbps')).toBe(80_000_000);
    expect(() => bandwidthToBits('fast')).toThrow(/tc bandwidth/);
  });
});

describe('patterns that go into the CRDs', () => {
  it('carry no regex flags (the API server would ignore them), so case-insensitivity is spelled out', async () => {
    const { bandwidthRegex, quantityRegex } = await import('../../src/api/quantity.ts');
    const { cpuListRegex } = await import('../../src/api/cpulist.ts');
    for (const pattern of [bandwidthRegex, quantityRegex, cpuListRegex]) expect(pattern.flags).toBe('');
    for (const ok of ['500Mbit', '2Gbit', '1gbit', '10MBPS', '100bit'])
      expect(bandwidthRegex.test(ok)).toBe(true);
    for (const bad of ['fast', '1 gbit', 'gbit', '1Gb']) expect(bandwidthRegex.test(bad)).toBe(false);
  });
});
