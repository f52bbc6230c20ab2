// The kernel facts behind the agent's securityContext in the chart (docs/decisions/0006), checked on this
// machine's kernel: a uid-0 process with no capabilities at all writes cgroup control files, needs
// CAP_DAC_OVERRIDE for another user's /proc/<pid>/oom_score_adj and CAP_SYS_RESOURCE to lower it, without
// CAP_SYS_ADMIN cannot open the devices cgroup, and outside the host PID namespace sees no PIDs in cgroup.procs. Uses only private nodeqos-test-* cgroups, removed afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const v1Root = '/sys/fs/cgroup';
const cgroupName = `nodeqos-test-privileges-${process.pid}`;

function hasSetpriv(): boolean {
  return spawnSync('setpriv', ['--version'], { encoding: 'utf8' }).status === 0;
}

function writableHierarchy(controller: string): string | undefined {
  const dir = join(v1Root, controller);
  if (!existsSync(join(dir, 'cgroup.procs'))) return undefined;
  try {
    mkdirSync(join(dir, cgroupName));
    return join(dir, cgroupName);
  } catch {
    return undefined;
  }
}

/** Capability set of the current process's bounding set (CAP_SYS_RESOURCE is bit 24). */
function boundingHas(bit: number): boolean {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find(l => l.startsWith('CapBnd:'));
  return line !== undefined && (BigInt(`0x${line.split(/\s+/)[1] ?? '0'}`) & (1n << BigInt(bit))) !== 0n;
}

/**
 * Writes `value` to `path` from a child running as uid 0 with only `caps` (setpriv clears every other capability
 * from the bounding set, so none is effective); returns the errno code, or 'ok'.
 */
function writeWithCaps(path: string, value: string, caps: readonly string[]): string {
  const bounding = ['-all', ...caps.map(c => `+${c}`)].join(',');
  const script =
    'try { require("node:fs").writeFileSync(process.argv[1], process.argv[2]); console.log("ok"); } ' +
    'catch (e) { console.log(e.code); }';
  const result = spawnSync(
    'setpriv',
    ['--inh-caps=-all', `--bounding-set=${bounding}`, '--', process.execPath, '-e', script, path, value],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (result.status !== 0) throw new Error(`setpriv failed: ${result.stderr}`);
  return result.stdout.trim();
}

const root = process.getuid?.() === 0;
const setpriv = hasSetpriv();
const skipReason = !root ? 'not root' : !setpriv ? 'setpriv (util-linux) is missing' : undefined;
if (skipReason !== undefined) console.log(`agent privilege checks skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('what the agent needs from the kernel', () => {
  const created: string[] = [];
  let cpu: string | undefined;
  let memory: string | undefined;
  let devices: string | undefined;
  let sleeper: ChildProcess | undefined;

  beforeAll(async () => {
    for (const controller of ['cpu', 'memory', 'devices']) {
      const dir = writableHierarchy(controller);
      if (dir !== undefined) created.push(dir);
    }
    [cpu, memory, devices] = ['cpu', 'memory', 'devices'].map(c => created.find(d => d.includes(`/${c}/`)));
    sleeper = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '30'], {
      stdio: 'ignore',
    });
    await new Promise(resolve => setTimeout(resolve, 200));
  });

  afterAll(() => {
    sleeper?.kill('SIGKILL');
    for (const dir of created) {
      try {
        rmdirSync(dir);
      } catch (error) {
        console.error(`could not remove ${dir}: ${String(error)}`);
      }
    }
  });

  test('cgroup control files need no capability, only uid 0 (so the chart adds no CAP_SYS_ADMIN)', ctx => {
    if (cpu === undefined || memory === undefined)
      ctx.skip(true, 'cgroup v1 cpu/memory hierarchies not writable');
    expect(writeWithCaps(join(cpu!, 'cpu.shares'), '512', [])).toBe('ok');
    expect(readFileSync(join(cpu!, 'cpu.shares'), 'utf8').trim()).toBe('512');
    expect(writeWithCaps(join(memory!, 'memory.limit_in_bytes'), '104857600', [])).toBe('ok');
  });

  test('without CAP_SYS_ADMIN the devices cgroup stays closed', ctx => {
    if (devices === undefined) ctx.skip(true, 'cgroup v1 devices hierarchy not writable');
    expect(writeWithCaps(join(devices!, 'devices.allow'), 'a *:* rwm', [])).toBe('EPERM');
  });

  test("another user's oom_score_adj needs CAP_DAC_OVERRIDE", () => {
    const path = `/proc/${sleeper?.pid ?? 0}/oom_score_adj`;
    expect(writeWithCaps(path, '500', [])).toBe('EACCES');
    expect(writeWithCaps(path, '500', ['dac_override'])).toBe('ok');
    expect(readFileSync(path, 'utf8').trim()).toBe('500');
  });

  test("without the host PID namespace a pod cgroup's cgroup.procs hides its processes (so: hostPID)", async ctx => {
    if (cpu === undefined) ctx.skip(true, 'cgroup v1 cpu hierarchy not writable');
    const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) ctx.skip(true, `unshare --pid is not allowed here: ${probe.stderr.trim()}`);
    const member = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise(resolve => member.once('exit', resolve));
    try {
      writeFileSync(join(cpu!, 'cgroup.procs'), String(member.pid));
      const hostView = readFileSync(join(cpu!, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      expect(hostView).toEqual([String(member.pid)]);
      const ownNamespace = spawnSync(
        'unshare',
        ['--pid', '--fork', '--mount-proc', 'cat', join(cpu!, 'cgroup.procs')],
        { encoding: 'utf8' },
      );
      expect(ownNamespace.status).toBe(0);
      expect(ownNamespace.stdout.trim()).toBe('');
    } finally {
      member.kill('SIGKILL');
      await exited;
    }
  });

  test('lowering oom_score_adj below its floor needs CAP_SYS_RESOURCE', ctx => {
    const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
    if (own <= -1000) ctx.skip(true, 'this process already runs at oom_score_adj -1000');
    const path = `/proc/${sleeper?.pid ?? 0}/oom_score_adj`;
    expect(writeWithCaps(path, '-1000', ['dac_override'])).toBe('EACCES');
    if (!boundingHas(24)) ctx.skip(true, 'CAP_SYS_RESOURCE is not in this sandbox bounding set');
    expect(writeWithCaps(path, '-1000', ['dac_override', 'sys_resource'])).toBe('ok');
  });
});
