import { describe, expect, it } from 'vitest';
import { QuotaLog } from '../../bench/suppress/quota-log.ts';

describe('QuotaLog', () => {
  it('passes writes to the inner sink, logs them once written, and finds the next match after a mark', async () => {
    const inner: number[] = [];
    const log = new QuotaLog(async quota => {
      inner.push(quota);
    });
    await log.sink(50_000);
    const mark = log.mark();
    const pending = log.next(mark, w => w.quotaUs < 20_000, 1_000);
    await log.sink(40_000);
    await log.sink(10_000);
    const found = await pending;
    expect(found?.quotaUs).toBe(10_000);
    expect(inner).toEqual([50_000, 40_000, 10_000]);
    expect((await log.next(0, w => w.quotaUs === 50_000, 10))?.quotaUs).toBe(50_000);
  });

  it('gives undefined when nothing matches in time, and logs nothing when the inner write fails', async () => {
    const log = new QuotaLog(async quota => {
      if (quota < 0) throw new Error('EINVAL');
    });
    await expect(log.sink(-5)).rejects.toThrow('EINVAL');
    expect(log.mark()).toBe(0);
    expect(await log.next(0, () => true, 20)).toBeUndefined();
  });
});
