import { describe, expect, it } from 'vitest';
import {
  bitsToBytes,
  formatHandle,
  parseClassid,
  parseHandle,
  quantumFor,
  tcRateArg,
  tcRateText,
} from '../../../src/agent/net/units.ts';

describe('tc units', () => {
  it('prints rates the way tc text output does', () => {
    expect(tcRateText(bitsToBytes(500_000_000))).toBe('500Mbit');
    expect(tcRateText(bitsToBytes(1_000_000_000))).toBe('1Gbit');
    expect(tcRateText(bitsToBytes(10_000_000_000))).toBe('10Gbit');
    expect(tcRateText(125000)).toBe('1Mbit');
    expect(tcRateText(1)).toBe('8bit');
    expect(tcRateText(1000)).toBe('8Kbit');
    // 123456792 bit: not a multiple of 1000 but above a million, so tc drops the low digits.
    expect(tcRateText(15432099)).toBe('123456Kbit');
    expect(tcRateText(125_000_000_000_000)).toBe('1000Tbit');
  });

  it('writes rates that tc parses back to the same byte count', () => {
    expect(tcRateArg(62500000)).toBe('500000000bit');
    expect(bitsToBytes(500_000_007)).toBe(62500000);
  });

  it('converts net_cls classids and tc handles', () => {
    expect(parseClassid('0x00010004')).toEqual({ major: 1, minor: 4 });
    expect(parseClassid('0xABCDffff')).toEqual({ major: 0xabcd, minor: 0xffff });
    expect(() => parseClassid('0x1234')).toThrow(/not 0xAAAABBBB/);
    expect(formatHandle({ major: 1, minor: 0xffff })).toBe('1:ffff');
    expect(formatHandle({ major: 1, minor: 10 })).toBe('1:a');
    expect(parseHandle('1:fffe')).toEqual({ major: 1, minor: 0xfffe });
    expect(parseHandle('1:')).toEqual({ major: 1, minor: 0 });
    expect(parseHandle('root')).toBeUndefined();
  });

  it('derives the quantum from the rate inside HTB limits', () => {
    expect(quantumFor(125000)).toBe(12500);
    expect(quantumFor(1000)).toBe(1000);
    expect(quantumFor(1_250_000_000)).toBe(200000);
  });
});
