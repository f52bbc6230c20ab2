// The NodeAgent the unit tests run on an in-memory node: roots /cg, /proc and /sys on the given AgentFs, a
// private metrics registry, and whatever else a test sets.
import { Registry } from 'prom-client';
import { NodeAgent, type NodeAgentOptions } from '../../../src/agent/apply-plan.ts';
import type { AgentFs } from '../../../src/agent/fs.ts';

export function memoryNodeAgent(
  options: { readonly fs: AgentFs; readonly stateDir: string } & Partial<NodeAgentOptions>,
): Promise<NodeAgent> {
  return NodeAgent.create({
    nodeName: 'n',
    cgroupRoot: '/cg',
    procRoot: '/proc',
    sysRoot: '/sys',
    registry: new Registry(),
    ...options,
  });
}
