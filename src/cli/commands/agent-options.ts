// `nodeqos agent` flags and what they become for the NodeAgent; shared by the daemon and `--once`.
import type { Registry } from 'prom-client';
import type { NodeAgentOptions } from '../../agent/apply-plan.ts';
import type { CgroupDriver } from '../../agent/cgroup/layout.ts';
import type { HierarchyKind } from '../../agent/discovery/mountinfo.ts';
import { createLogger } from '../../observability/logger.ts';
import type { LogLevel } from '../../observability/log-levels.ts';
import { UsageError } from '../usage-error.ts';

export interface AgentCommandOptions {
  nodeName?: string;
  kubeconfig?: string;
  cgroupRoot: string;
  procRoot: string;
  sysRoot: string;
  cgroupVersion: 'auto' | HierarchyKind;
  cgroupDriver: 'auto' | CgroupDriver;
  kubepods?: string;
  /** Unset: resolved by stateDirFor. */
  stateDir?: string;
  metricsPort: number;
  networkQos: boolean;
  interface?: string;
  resyncMs: number;
  forceRewriteMs: number;
  once: boolean;
  /** Put back every original value and exit (agent-once.ts). */
  restore: boolean;
  plan?: string;
  pressure?: number;
  /** Unset: info, or warn with --once (the per-pod table is the output; logs would bury it). */
  logLevel?: LogLevel;
}

export const realRoots = { cgroupRoot: '/sys/fs/cgroup', procRoot: '/proc', sysRoot: '/sys' } as const;
export const realStateDir = '/var/lib/nodeqos';

/**
 * The state directory: --state-dir, else the real one when every root is the real one, else `<dir>/state` when
 * the roots are a `nodeqos sim-node` directory's (`<dir>/cgroup`, `<dir>/proc`, `<dir>/sys`). Anything else is an
 * error: an agent pointed at other files must never read or rewrite the restore records of the real agent.
 */
export function stateDirFor(options: Pick<AgentCommandOptions, keyof typeof realRoots | 'stateDir'>): string {
  if (options.stateDir !== undefined) return options.stateDir;
  const roots = Object.keys(realRoots) as (keyof typeof realRoots)[];
  if (roots.every(r => options[r] === realRoots[r])) return realStateDir;
  const simulated = /^(.*)\/cgroup\/?$/.exec(options.cgroupRoot)?.[1];
  if (
    simulated !== undefined &&
    simulated !== '' &&
    options.procRoot.replace(/\/$/, '') === `${simulated}/proc` &&
    options.sysRoot.replace(/\/$/, '') === `${simulated}/sys`
  )
    return `${simulated}/state`;
  throw new UsageError(
    `--state-dir is required when --cgroup-root, --proc-root or --sys-root is not the real one ` +
      `(${realStateDir} holds a real agent's restore records); a nodeqos sim-node directory D defaults to D/state`,
  );
}

export function logLevelFor(options: Pick<AgentCommandOptions, 'logLevel' | 'once' | 'restore'>): LogLevel {
  return options.logLevel ?? (options.once || options.restore ? 'warn' : 'info');
}

export function agentOptions(
  options: AgentCommandOptions,
  nodeName: string,
  registry: Registry,
): NodeAgentOptions {
  return {
    nodeName,
    stateDir: stateDirFor(options),
    cgroupRoot: options.cgroupRoot,
    procRoot: options.procRoot,
    sysRoot: options.sysRoot,
    hierarchy: options.cgroupVersion === 'auto' ? undefined : options.cgroupVersion,
    driver: options.cgroupDriver === 'auto' ? undefined : options.cgroupDriver,
    kubepodsDir: options.kubepods,
    registry,
    forceRewriteIntervalMs: options.forceRewriteMs,
    logger: createLogger('nodeqos-agent', logLevelFor(options)),
  };
}
