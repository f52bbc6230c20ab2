// `nodeqos agent` as it ships: the compiled CLI (dist/cli/main.js, what the image and the chart run), as a separate
// process on a simulated node's files and the benchmark's dev server. The simulated node's /proc/stat is advanced
// by the benchmark, as time passing would.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fileURLToPath } from 'node:url';
import type { SimulatedNode } from '../../src/demo/simulated-node.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** dist/cli/main.js, built first when missing or older than the sources (scripts/dist.sh, as scripts/run does). */
export function compiledCli(): string {
  const path = execFileSync(
    'bash',
    ['-c', 'source scripts/node24.sh && source scripts/dist.sh && nodeqos_cli'],
    {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  ).trim();
  if (!path.endsWith('.js') || !existsSync(path))
    throw new Error(`no compiled CLI: got ${JSON.stringify(path)}`);
  return path;
}

/**
 * The Node options the chart gives the agent (values.yaml agent.nodeOptions, set as NODE_OPTIONS), so the agent
 * here runs as it does on a node. `--node-options=<...>` on the benchmark's command line replaces them (to compare).
 */
export function agentNodeOptions(): string {
  const given = process.argv.find(arg => arg.startsWith('--node-options='));
  if (given !== undefined) return given.slice('--node-options='.length);
  const values = parse(readFileSync(`${root}/charts/nodeqos/values.yaml`, 'utf8')) as {
    agent?: { nodeOptions?: unknown };
  };
  const options = values.agent?.nodeOptions;
  return typeof options === 'string' ? options : '';
}

export interface AgentProcess {
  readonly pid: number;
  /** SIGTERM (the agent finishes the write in flight), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startAgentProcess(
  cli: string,
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
    env: { ...process.env, NODE_OPTIONS: agentNodeOptions() },
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
