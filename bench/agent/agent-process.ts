// `nodeqos agent` as it ships (src/cli/main.ts), as a separate process on a simulated node's files and the
// benchmark's dev server. The simulated node's /proc/stat is advanced by the benchmark, as time passing would.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SimulatedNode } from '../../src/demo/simulated-node.ts';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface AgentProcess {
  readonly pid: number;
  /** SIGTERM (the agent finishes the write in flight), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startAgentProcess(
  nodeName: string,
  sim: SimulatedNode,
  kubeconfig: string,
): Promise<AgentProcess> {
  const args = [
    cli,
    'agent',
    ['--node-name', nodeName],
    ['--kubeconfig', kubeconfig],
    ['--cgroup-root', sim.cgroupRoot],
    ['--proc-root', sim.procRoot],
    ['--sys-root', sim.sysRoot],
    ['--cgroup-version', 'v2'],
    ['--cgroup-driver', 'cgroupfs'],
    ['--state-dir', sim.stateDir],
    ['--metrics-port', '0'],
    ['--log-level', 'warn'],
  ].flat();
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', process.stderr, process.stderr],
  });
  await once(child, 'spawn');
  const pid = child.pid;
  if (pid === undefined) throw new Error(`agent for ${nodeName} did not start`);
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  return {
    pid,
    stop: async (graceMs = 5_000) => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
