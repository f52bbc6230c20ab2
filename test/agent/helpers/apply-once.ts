// Child process for test/agent/cgroup-mounts.kernel.test.ts: runs inside the private mount namespace the test
// built (only kubepods subtrees mounted under the cgroup root given), lets the agent discover the layout from
// /proc/self/mountinfo as in the chart's pod, applies one plan, and prints the discovered mode and the report.
import { Registry } from 'prom-client';
import { NodeAgent } from '../../../src/agent/apply-plan.ts';
import { detectCgroupMode } from '../../../src/agent/discovery/cgroup-mode.ts';
import { nodeFs } from '../../../src/agent/fs.ts';
import type { NodeIsolationPlan } from '../../../src/api/plan.ts';

const [cgroupRoot = '', stateDir = '', planJson = ''] = process.argv.slice(2);
const plan = JSON.parse(planJson) as NodeIsolationPlan;
const mode = await detectCgroupMode({ fs: nodeFs, cgroupRoot });
const agent = await NodeAgent.create({
  nodeName: plan.spec.nodeName,
  stateDir,
  cgroupRoot,
  registry: new Registry(),
});
const report = await agent.applyPlan(plan);
console.log(JSON.stringify({ mode, report }));
