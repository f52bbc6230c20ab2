// Everything the agent learns about its node at start, in one call (roots are parameters so tests use private trees).
import type { Topology } from '../../api/topology.ts';
import { nodeFs, type AgentFs } from '../fs.ts';
import { listBlockDevices, type BlockDevice } from './block-devices.ts';
import { detectCgroupMode, type CgroupMode, type CgroupModeOptions } from './cgroup-mode.ts';
import { defaultRouteInterface } from './default-route.ts';
import { discoverTopology } from './topology.ts';

export interface NodeDiscoveryOptions extends Omit<CgroupModeOptions, 'fs'> {
  readonly fs?: AgentFs | undefined;
  readonly sysRoot?: string | undefined;
}

export interface NodeFacts {
  readonly cgroup: CgroupMode;
  readonly topology: Topology;
  readonly blockDevices: BlockDevice[];
  /** Interface of the IPv4 default route, null when there is none. */
  readonly defaultInterface: string | null;
}

export async function discoverNode(options: NodeDiscoveryOptions = {}): Promise<NodeFacts> {
  const fs = options.fs ?? nodeFs;
  const sysRoot = options.sysRoot ?? '/sys';
  return {
    cgroup: await detectCgroupMode({ ...options, fs }),
    topology: await discoverTopology(fs, sysRoot),
    blockDevices: await listBlockDevices(fs, sysRoot),
    defaultInterface: await defaultRouteInterface(fs, options.procRoot ?? '/proc'),
  };
}
