// nodeqos demo: the embedded API server, the controller and one agent per example node, end to end; prints
// what every pod got, read back from its (simulated) cgroup files.
import { join } from 'node:path';
import { startDemo, type DemoNode, type RunningDemo } from '../../demo/run-demo.ts';
import { createLogger, type LogLevel } from '../../observability/logger.ts';
import { loadDemoCluster } from '../demo-cluster.ts';
import { formatBytes } from '../format-bytes.ts';
import { renderTable } from '../render-plan.ts';

export interface DemoOptions {
  examples?: string | undefined;
  keep: boolean;
  logLevel: LogLevel;
}

function bytes(text: string): string {
  return text === 'max' ? 'max' : formatBytes(Number(text), '0');
}

async function nodeTable(demo: RunningDemo, node: DemoNode): Promise<string> {
  const plan = await demo.plan(node.name);
  const status = plan.status;
  const applied = status?.conditions?.find(c => c.type === 'Applied');
  const header = [
    `node ${node.name}   policy ${plan.spec.policyName}   plan generation ${plan.metadata.generation ?? '?'} applied: ${applied?.status ?? '?'} (${applied?.message ?? ''})`,
    `pools: LS ${plan.spec.pools.ls}   BE ${plan.spec.pools.be}   pressure ${status?.pressure ?? '?'}%   BE tier cpu.max ${await node.sim.readTierQuota()}`,
  ];
  const rows = [
    ['POD', 'CLASS', 'CPU.WEIGHT', 'CPU.MAX', 'CPUSET', 'MEM.MIN', 'MEM.LOW', 'MEM.HIGH', 'MEM.MAX', 'OOM'],
  ];
  for (const planned of plan.spec.pods) {
    const pod = node.pods.find(p => p.uid === planned.uid);
    if (!pod) continue;
    const v = await node.sim.readPod(pod);
    rows.push([
      `${pod.namespace}/${pod.name}`,
      planned.qosClass,
      v.cpuWeight,
      v.cpuMax,
      v.cpuset,
      bytes(v.memoryMin),
      bytes(v.memoryLow),
      bytes(v.memoryHigh),
      bytes(v.memoryMax),
      v.oomScoreAdj,
    ]);
  }
  return [...header, '', renderTable(rows)].join('\n');
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const cluster = loadDemoCluster(options.examples);
  const logger = createLogger('nodeqos-demo', options.logLevel);
  const started = Date.now();
  const demo = await startDemo(cluster, logger);
  console.log(
    `nodeqos demo: embedded API server ${demo.server.url}, controller, ${demo.nodes.length} agents; ` +
      `${cluster.policies.length} policies, ${cluster.pods.length} pods; every plan applied in ${Date.now() - started} ms\n` +
      "values below are read back from each simulated node's cgroup v2 files (cpu.weight = kubelet's conversion of cpu.shares)\n",
  );
  for (const node of demo.nodes) console.log(`${await nodeTable(demo, node)}\n`);
  if (!options.keep) {
    await demo.stop();
    return 0;
  }
  const kubeconfig = join(demo.dir, 'kubeconfig');
  await demo.server.writeKubeconfig(kubeconfig);
  console.log(`running; try: kubectl --kubeconfig ${kubeconfig} get nqp,nip   (Ctrl-C to stop)`);
  await new Promise<void>(resolve => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await demo.stop();
  return 0;
}
