// nodeqos plan: the NodeIsolationPlan a node would get, computed offline from files.
import { describeProblems, fieldProblems } from '../../api/issues.ts';
import { nodeSchema, podSchema, type Node, type Pod } from '../../api/inputs.ts';
import { planSchema, type PlanSpec } from '../../api/plan.ts';
import { validateObjects } from '../../api/policy-validation.ts';
import { topologySchema, type Topology } from '../../api/topology.ts';
import type { SourcedObject } from '../../api/documents.ts';
import { choosePolicy } from '../../plan/select-policy.ts';
import { planNode } from '../../plan/plan-node.ts';
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

function loadPods(path: string | undefined): Pod[] {
  if (path === undefined) return [];
  return readObjects([path])
    .filter(o => o.object.kind === 'Pod' || o.object.kind === undefined)
    .map(item => parseWith(podSchema, item, 'Pod'));
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
  if (validation.problems.length > 0) {
    for (const p of validation.problems) console.error(`${p.source}: ${p.object}: ${p.path}: ${p.message}`);
    return 1;
  }
  const node = loadNode(options.node);
  const choice = choosePolicy(
    validation.policies.map(p => p.policy),
    node.metadata.labels ?? {},
  );
  if (!choice.winner) {
    console.error(
      `no policy selects node ${node.metadata.name} (labels ${JSON.stringify(node.metadata.labels ?? {})})`,
    );
    return 1;
  }
  const plan = planNode({
    policy: choice.winner,
    node,
    pods: loadPods(options.pods),
    topology: loadTopology(options.topology),
    previous: loadPrevious(options.previous),
    pressure: options.pressure,
  });
  if (choice.tiedWith.length > 0) {
    plan.spec.warnings.unshift({
      message: `policies ${choice.tiedWith.join(', ')} also match at priority ${choice.winner.spec.priority ?? 0}; ${choice.winner.metadata.name} wins by name`,
    });
  }
  console.log(renderPlan(plan, options.output));
  return 0;
}
