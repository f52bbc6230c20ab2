// The interface of the IPv4 default route, from <proc>/net/route (lowest metric wins).
import { resolveUnder } from '../cgroup/safe-path.ts';
import type { AgentFs } from '../fs.ts';

const routeFlagUp = 0x1;

interface Route {
  readonly iface: string;
  readonly metric: number;
}

/** A default route line: destination and mask 0.0.0.0, route up. */
function defaultRouteOf(line: string): Route | undefined {
  const [iface, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
  if (iface === undefined || iface === '' || destination !== '00000000' || mask !== '00000000')
    return undefined;
  if ((parseInt(flags ?? '0', 16) & routeFlagUp) === 0) return undefined;
  return { iface, metric: Number(metric ?? '0') };
}

export function parseDefaultRouteInterface(text: string): string | null {
  let best: Route | undefined;
  for (const line of text.split('\n').slice(1)) {
    const route = defaultRouteOf(line);
    if (route && (best === undefined || route.metric < best.metric)) best = route;
  }
  return best?.iface ?? null;
}

export async function defaultRouteInterface(fs: AgentFs, procRoot = '/proc'): Promise<string | null> {
  return parseDefaultRouteInterface(await fs.readFile(resolveUnder(procRoot, 'net', 'route')));
}
