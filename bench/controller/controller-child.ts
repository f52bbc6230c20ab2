// The controller in a process of its own, driven over IPC by controller.bench.ts, so its RSS, heap and CPU time
// are the controller's alone (the dev server runs in the parent). Run with --expose-gc: stats can force a GC.
// argv: <kubeconfig> <paged|single>
import { pino } from 'pino';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { serveParent } from '../lib/ipc.ts';
import { listings, startBenchController, type BenchController, type Listing } from './start-controller.ts';

export type ControllerRequest =
  | { readonly type: 'start' }
  | { readonly type: 'synced' }
  | { readonly type: 'idle' }
  | { readonly type: 'stats'; readonly gc: boolean }
  | { readonly type: 'stop' };

export interface ControllerStats {
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** User + system CPU time of this process since it started, ms (process.cpuUsage). */
  readonly cpuMs: number;
  /** nodeqos_controller_plan_writes_total by result. */
  readonly planWrites: Readonly<Record<string, number>>;
}

export type ControllerReply = ControllerStats | null;

const [kubeconfigPath, listingArg] = process.argv.slice(2);
if (kubeconfigPath === undefined || !listings.includes(listingArg as Listing))
  throw new Error(`usage: controller-child.ts <kubeconfig> <${listings.join('|')}>`);
const listing = listingArg as Listing;
const logger = pino({ level: 'warn' }, pino.destination(2));
let running: BenchController | undefined;

function started(): BenchController {
  if (!running) throw new Error('controller not started');
  return running;
}

async function stats(gc: boolean): Promise<ControllerStats> {
  if (gc) {
    if (!global.gc) throw new Error('stats with gc needs node --expose-gc');
    global.gc();
    global.gc();
  }
  const metric = running ? await running.metrics.planWrites.get() : { values: [] };
  const planWrites = Object.fromEntries(metric.values.map(v => [String(v.labels.result), v.value]));
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    heapUsedBytes: memory.heapUsed,
    rssBytes: memory.rss,
    cpuMs: (cpu.user + cpu.system) / 1000,
    planWrites,
  };
}

async function waitSynced(): Promise<void> {
  while (!started().controller.synced) await new Promise(resolve => setTimeout(resolve, 10));
}

async function handle(request: ControllerRequest): Promise<ControllerReply> {
  switch (request.type) {
    case 'start':
      running = startBenchController(loadKubeConfig(kubeconfigPath), logger, listing);
      return null;
    case 'synced':
      await waitSynced();
      return null;
    case 'idle':
      await started().controller.idle();
      return null;
    case 'stats':
      return stats(request.gc);
    case 'stop':
      await started().stop();
      return null;
  }
}

serveParent(handle);
