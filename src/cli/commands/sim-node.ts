// nodeqos sim-node: a simulated node holding a plan's pods, so `agent --once` can be tried without a kernel.
import { readdir } from 'node:fs/promises';
import { createSimulatedNode } from '../../demo/simulated-node.ts';
import { readObjects } from '../files.ts';
import { planSchema } from '../../api/plan.ts';
import { UsageError } from '../usage-error.ts';

export async function runSimNode(options: { plan: string; dir: string; cpus?: number }): Promise<number> {
  const item = readObjects([options.plan]).find(o => o.object.kind === 'NodeIsolationPlan');
  const parsed = item ? planSchema.safeParse(item.object) : undefined;
  if (!parsed?.success) throw new UsageError(`${options.plan}: no valid NodeIsolationPlan found`);
  const entries = await readdir(options.dir).catch(() => []);
  if (entries.length > 0) throw new UsageError(`${options.dir}: not empty`);
  const spec = parsed.data.spec;
  const cpus = options.cpus ?? Math.max(1, Math.ceil(spec.nodeCapacityMilliCPU / 1000));
  const node = await createSimulatedNode(options.dir, cpus);
  for (const pod of spec.pods)
    await node.addPod({ uid: pod.uid, kubeQoS: pod.kubeQoS, containers: ['main'] });
  console.log(
    [
      `simulated node ${spec.nodeName}: ${cpus} CPUs, ${spec.pods.length} pods under ${node.cgroupRoot}`,
      `try: nodeqos agent --once --plan ${options.plan} --cgroup-root ${node.cgroupRoot} --proc-root ${node.procRoot} --sys-root ${node.sysRoot} --state-dir ${node.stateDir}`,
    ].join('\n'),
  );
  return 0;
}
