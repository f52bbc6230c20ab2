// CPU topology from sysfs: <sys>/devices/system/cpu/cpu<N>/topology/{core_id,physical_package_id},
// <sys>/devices/system/cpu/cpu<N>/cache/index3/id (L3 group) and <sys>/devices/system/node/node<N>/cpulist.
// Shape: src/api/topology.ts.
import { parseCpuList } from '../../api/cpulist.ts';
import { topologySchema, type Topology, type TopologyCpu } from '../../api/topology.ts';
import { resolveUnder } from '../cgroup/safe-path.ts';
import { errnoOf, type AgentFs } from '../fs.ts';

async function readOptional(fs: AgentFs, path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function numbered(names: readonly string[], prefix: string): number[] {
  const pattern = new RegExp(`^${prefix}([0-9]+)$`);
  return names.flatMap(name => {
    const match = pattern.exec(name);
    return match?.[1] === undefined ? [] : [Number(match[1])];
  });
}

/** Topology ids: -1 (unknown package on some platforms) counts as 0. */
function topologyId(text: string | undefined, what: string): number {
  if (text === undefined) return 0;
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < -1)
    throw new Error(`${what} reads "${text.trim()}", not an integer`);
  return Math.max(0, value);
}

async function numaOfCpus(fs: AgentFs, nodeRoot: string): Promise<Map<number, number>> {
  const numaOf = new Map<number, number>();
  const names = (await fs.exists(nodeRoot)) ? await fs.listNames(nodeRoot) : [];
  for (const node of numbered(names, 'node')) {
    const cpulist = await readOptional(fs, resolveUnder(nodeRoot, `node${node}`, 'cpulist'));
    for (const cpu of cpulist === undefined ? [] : parseCpuList(cpulist)) numaOf.set(cpu, node);
  }
  return numaOf;
}

export async function discoverTopology(fs: AgentFs, sysRoot = '/sys'): Promise<Topology> {
  const cpuRoot = resolveUnder(sysRoot, 'devices', 'system', 'cpu');
  const online = await readOptional(fs, resolveUnder(cpuRoot, 'online'));
  const ids = online === undefined ? numbered(await fs.listNames(cpuRoot), 'cpu') : parseCpuList(online);
  const numaOf = await numaOfCpus(fs, resolveUnder(sysRoot, 'devices', 'system', 'node'));
  const cpus: TopologyCpu[] = [];
  for (const id of ids.sort((a, b) => a - b)) {
    const topologyDir = resolveUnder(cpuRoot, `cpu${id}`, 'topology');
    const core = await readOptional(fs, resolveUnder(topologyDir, 'core_id'));
    const socket = await readOptional(fs, resolveUnder(topologyDir, 'physical_package_id'));
    const l3 = await readOptional(fs, resolveUnder(cpuRoot, `cpu${id}`, 'cache', 'index3', 'id'));
    cpus.push({
      id,
      core: core === undefined ? id : topologyId(core, `cpu${id} core_id`),
      socket: topologyId(socket, `cpu${id} physical_package_id`),
      numa: numaOf.get(id) ?? 0,
      ...(l3 === undefined ? {} : { l3: topologyId(l3, `cpu${id} cache/index3/id`) }),
    });
  }
  // Cache ids only where every CPU has one (a VM may expose index3 on some CPUs): the picker needs all or none.
  if (cpus.some(cpu => cpu.l3 === undefined)) for (const cpu of cpus) delete cpu.l3;
  const parsed = topologySchema.safeParse({ cpus });
  if (!parsed.success) throw new Error(`CPU topology under ${cpuRoot} is invalid: ${parsed.error.message}`);
  return parsed.data;
}
