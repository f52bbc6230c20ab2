import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startChild } from '../../bench/lib/ipc.ts';

const script = fileURLToPath(new URL('./fixtures/echo-child.ts', import.meta.url));

interface Request {
  op: 'echo' | 'fail' | 'exit';
  value?: string;
}

describe('startChild / serveParent', () => {
  it('answers requests in order, carries errors back, and closes cleanly', async () => {
    const child = await startChild<Request, { echoed: string; pid: number }>(script);
    const replies = await Promise.all([
      child.request({ op: 'echo', value: 'a' }),
      child.request({ op: 'echo', value: 'b' }),
    ]);
    expect(replies).toEqual([
      { echoed: 'a', pid: child.pid },
      { echoed: 'b', pid: child.pid },
    ]);
    await expect(child.request({ op: 'fail', value: 'x' })).rejects.toThrow(/failed on x/);
    await child.close();
    expect(child.process.exitCode).toBe(0);
    await expect(child.request({ op: 'echo' })).rejects.toThrow(/exited \(code 0/);
  });

  it('rejects what is pending when the child dies', async () => {
    const child = await startChild<Request, unknown>(script);
    await expect(child.request({ op: 'exit' })).rejects.toThrow(/exited \(code 3/);
    await child.kill();
  });
});
