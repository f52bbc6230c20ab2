// nodeqos demo: plans every node of the embedded example cluster and prints what each pod would get.
import { choosePolicy } from '../../plan/select-policy.ts';
import { planNode } from '../../plan/plan-node.ts';
import { loadDemoCluster } from '../demo-cluster.ts';
import { renderPlanTable } from '../render-plan.ts';

export function runDemo(options: { examples?: string | undefined }): number {
  const cluster = loadDemoCluster(options.examples);
  console.log(
    `nodeqos demo: ${cluster.policies.length} policies, ${cluster.nodes.length} nodes, ${cluster.pods.length} pods (examples/)\n`,
  );
  for (const node of cluster.nodes) {
    const choice = choosePolicy(cluster.policies, node.metadata.labels ?? {});
    if (!choice.winner) {
      console.log(`node ${node.metadata.name}: no policy selects it; kubelet's values stay\n`);
      continue;
    }
    const pods = cluster.pods.filter(p => p.spec.nodeName === node.metadata.name);
    console.log(`${renderPlanTable(planNode({ policy: choice.winner, node, pods }))}\n`);
  }
  return 0;
}
