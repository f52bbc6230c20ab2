import { describe, expect, it } from 'vitest';
import { NetApplyError, NetQos } from '../../../src/agent/executor/net-qos.ts';
import { CommandError, type CommandRunner } from '../../../src/agent/executor/command-runner.ts';
import { defaultNetClasses } from './fixtures.ts';

interface FakeTc {
  readonly run: CommandRunner;
  readonly calls: string[][];
}

/** A tc that starts with the default noqueue qdisc and fails the commands `fail` matches with `stderr`. */
function fakeTc(fail?: { match: RegExp; stderr: string }): FakeTc {
  const calls: string[][] = [];
  const run: CommandRunner = (file, args) => {
    const argv = [file, ...args];
    calls.push(argv);
    const line = argv.join(' ');
    if (fail?.match.test(line)) return Promise.reject(new CommandError(argv, 2, fail.stderr));
    if (line.includes('qdisc show'))
      return Promise.resolve({ stdout: '[{"kind":"noqueue","handle":"0:","root":true}]', stderr: '' });
    if (line.includes('/speed')) return Promise.resolve({ stdout: '25000\n', stderr: '' });
    return Promise.resolve({ stdout: '', stderr: '' });
  };
  return { run, calls };
}

const mutations = (calls: readonly string[][]): string[] =>
  calls.map(c => c.join(' ')).filter(c => !/ show |\/speed/.test(c));

describe('NetQos with an injected runner', () => {
  it('runs tc inside the namespace and sizes the root from the link speed there', async () => {
    const tc = fakeTc();
    const result = await new NetQos({ dev: 'veth0', netns: 'ns1', run: tc.run }).apply(defaultNetClasses);
    expect(tc.calls[0]).toEqual(['ip', 'netns', 'exec', 'ns1', 'cat', '--', '/sys/class/net/veth0/speed']);
    expect(result.linkBitsPerSec).toBe(25_000_000_000);
    expect(result.commands[0]).toEqual([
      'ip',
      'netns',
      'exec',
      'ns1',
      'tc',
      'qdisc',
      'replace',
      'dev',
      'veth0',
      'root',
      'handle',
      '1:',
      'htb',
      'default',
      'ffff',
    ]);
    expect(result.commands).toHaveLength(8);
    expect(result.status).toEqual([]);
  });

  it('reports a kernel without the cgroup classifier as unsupported and stops asking it', async () => {
    const tc = fakeTc({
      match: / cgroup$/,
      stderr: 'Error: TC classifier not found.\nWe have an error talking to the kernel\n',
    });
    const qos = new NetQos({ dev: 'eth0', run: tc.run, linkBitsPerSec: 1_000_000_000 });
    const first = await qos.apply(defaultNetClasses);
    expect(first.commands).toHaveLength(7);
    expect(first.status).toEqual([expect.objectContaining({ item: 'filter', status: 'unsupported' })]);
    expect(first.status[0]?.message).toMatch(/CONFIG_NET_CLS_CGROUP.*default class 1:ffff/);
    tc.calls.length = 0;
    const second = await qos.apply(defaultNetClasses);
    expect(mutations(tc.calls).filter(c => c.includes('filter'))).toEqual([]);
    expect(second.status.map(s => s.item)).toEqual(['filter']);
  });

  it('fails with the failing command, its stderr and the commands already run', async () => {
    const tc = fakeTc({ match: /classid 1:4 /, stderr: 'Error: Specified class not found.' });
    const qos = new NetQos({ dev: 'eth0', run: tc.run, linkBitsPerSec: 1_000_000_000 });
    const error = await qos.apply(defaultNetClasses).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NetApplyError);
    expect((error as NetApplyError).message).toMatch(
      /^network QoS on eth0: `tc class replace dev eth0 .*classid 1:4 .*` failed \(exit 2\): Error: Specified class not found\.$/,
    );
    expect((error as NetApplyError).commands).toHaveLength(5);
  });

  it('assumes the fallback rate when the driver reports no speed', async () => {
    const tc = fakeTc();
    const qos = new NetQos({
      dev: 'lo',
      run: tc.run,
      readFile: () =>
        Promise.reject(Object.assign(new Error('EINVAL: invalid argument, read'), { code: 'EINVAL' })),
      fallbackLinkBitsPerSec: 40_000_000_000,
    });
    const result = await qos.apply(defaultNetClasses);
    expect(result.linkBitsPerSec).toBe(40_000_000_000);
    expect(result.status).toEqual([
      {
        item: 'link',
        status: 'assumed',
        message: expect.stringMatching(
          /^link rate 40000000000 bit\/s assumed: \/sys\/class\/net\/lo\/speed unreadable: EINVAL/,
        ) as unknown,
      },
    ]);
  });

  it('refuses interface and namespace names that could escape argv or sysfs paths', () => {
    for (const dev of ['..', '.', 'eth0/../x', 'a'.repeat(16), '', 'eth 0', '-x;rm']) {
      expect(() => new NetQos({ dev })).toThrow(/invalid interface name/);
    }
    expect(() => new NetQos({ dev: 'eth0', netns: '../x' })).toThrow(/invalid network namespace name/);
  });
});
