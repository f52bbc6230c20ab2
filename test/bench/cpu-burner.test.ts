import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CpuBurners } from '../../bench/lib/cpu-burner.ts';

describe('CpuBurners', () => {
  it('starts paused, burns CPU while running, and is gone after stop', async () => {
    const burners = await CpuBurners.start(1);
    try {
      const pid = burners.pids[0] ?? 0;
      const cpu = async (ms: number): Promise<number> => {
        const before = burners.cpuMs();
        await sleep(ms);
        return burners.cpuMs() - before;
      };
      expect(await cpu(200)).toBeLessThan(30);
      burners.run();
      expect(await cpu(500)).toBeGreaterThan(40);
      burners.pause();
      await sleep(20);
      expect(await cpu(200)).toBeLessThan(30);
      expect(pid).toBeGreaterThan(0);
    } finally {
      await burners.stop();
    }
  });
});
