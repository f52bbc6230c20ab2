// nodeqos plan: the NodeIsolationPlan a node would get, computed offline from files.
import { describeProblems, fieldProblems } from '../../api/issues.ts';
import { nodeSchema, type Node, type Pod } from '../../api/inputs.ts';
import { planSchema, type PlanSpec } from '../../api/plan.ts';
import { validateObjects } from '../../api/policy-validation.ts';
import { topologySchema, type Topology } from '../../api/topology.ts';
import type { SourcedObject } from '../../api/documents.ts';
import { readPod } from '../../plan/conservative-pod.ts';
import { planForNode } from '../../plan/plan-for-node.ts';
import { readObjects } from '../files.ts';
import { renderPlan, type OutputFormat } from '../output.ts';
import { UsageError } from '../usage-error.ts';

export interface PlanOptions {
  policy: string[];
  node: string;
  pods?: string | undefined;
  topology?: string | undefined;
  previous?: string | undefined;
  output: OutputFormat;
  pressure?: number | undefined;
}

function parseWith<T>(
  schema: {
    safeParse: (v: unknown) => { success: true; data: T } | { success: false; error: import('zod').ZodError };
  },
  item: SourcedObject,
  what: string,
): T {
  const parsed = schema.safeParse(item.object);
  if (!parsed.success)
    throw new UsageError(
      `${item.source}: invalid ${what}:\n${describeProblems(fieldProblems(parsed.error))}`,
    );
  return parsed.data;
}

function loadNode(path: string): Node {
  const item = readObjects([path]).find(o => o.object.kind === 'Node' || o.object.kind === undefined);
  if (!item) throw new UsageError(`${path}: no Node object found`);
  return parseWith(nodeSchema, item, 'Node');
}

/** Pods as the controller's cache holds them: one the schema rejects is planned conservatively, not refused. */
function loadPods(path: string | undefined): Pod[] {
  if (path === undefined) return [];
  return readObjects([path])
    .filter(o => o.object.kind === 'Pod' || o.object.kind === undefined)
    .map(item => {
      const pod = readPod(item.object);
      if (!pod) throw new UsageError(`${item.source}: invalid Pod: metadata.name: is required`);
      return pod;
    });
}

function loadTopology(path: string | undefined): Topology | undefined {
  if (path === undefined) return undefined;
  const item = readObjects([path])[0];
  if (!item) throw new UsageError(`${path}: empty topology file`);
  return parseWith(topologySchema, item, 'topology');
}

function loadPrevious(path: string | undefined): PlanSpec | undefined {
  if (path === undefined) return undefined;
  const item = readObjects([path]).find(o => o.object.kind === 'NodeIsolationPlan');
  if (!item) throw new UsageError(`${path}: no NodeIsolationPlan found`);
  return parseWith(planSchema, item, 'NodeIsolationPlan').spec;
}

export function runPlan(options: PlanOptions): number {
  const validation = validateObjects(readObjects(options.policy));
  const refused = validation.problems.filter(p => p.clusterAccepts !== true);
  for (const p of validation.problems)
    console.error(`${p.clusterAccepts ? 'warning: ' : ''}${p.source}: ${p.object}: ${p.path}: ${p.message}`);
  if (refused.length > 0) return 1;
  const node = loadNode(options.node);
  // The controller's own function: the same policy choice, tie warning, plan, or reason for none.
  const outcome = planForNode({
    policies: validation.policies.map(p => p.policy),
    node,
    pods: loadPods(options.pods),
    topology: loadTopology(options.topology),
    previous: loadPrevious(options.previous),
    pressure: options.pressure,
  });
  if (outcome.kind === 'unselected') {
    console.error(
      `no policy selects node ${node.metadata.name} (labels ${JSON.stringify(node.metadata.labels ?? {})})`,
    );
    return 1;
  }
  if (outcome.kind === 'unplannable') {
    console.error(`policy ${outcome.policy} selects the node but it cannot be planned: ${outcome.reason}`);
    return 1;
  }
  console.log(renderPlan(outcome.plan, options.output));
  return 0;
}
