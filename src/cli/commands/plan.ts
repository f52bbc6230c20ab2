// nodeqos plan: the NodeIsolationPlan a node would get, computed offline from files.
import { describeProblems, fieldProblems } from '../../api/issues.ts';
import { nodeSchema, type Node, type Pod } from '../../api/inputs.ts';
import { planSchema, type NodeIsolationPlan } from '../../api/plan.ts';
import type { NodeQoSPolicy } from '../../api/policy.ts';
import { validateObjects } from '../../api/policy-validation.ts';
import { topologySchema, type Topology } from '../../api/topology.ts';
import type { SourcedObject } from '../../api/documents.ts';
import { readPod } from '../../api/conservative-pod.ts';
import { planForNode } from '../../plan/plan-for-node.ts';
import { describeKinds, readObjects } from '../files.ts';
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
  const objects = readObjects([path]);
  const item = objects.find(o => o.object.kind === 'Node' || o.object.kind === undefined);
  if (!item) throw new UsageError(`${path}: no Node object found (the file holds ${describeKinds(objects)})`);
  return parseWith(nodeSchema, item, 'Node');
}

/**
 * Every Pod of the file: an empty file or one of another kind (a policy passed as --pods) is an error. A pod the
 * schema rejects is planned conservatively, as the controller's cache holds it, not refused.
 */
function loadPods(path: string | undefined): Pod[] {
  if (path === undefined) return [];
  const objects = readObjects([path]);
  const isPod = (o: SourcedObject): boolean => o.object.kind === 'Pod' || o.object.kind === undefined;
  const pods = objects.filter(isPod);
  if (pods.length === 0)
    throw new UsageError(
      `${path}: no Pod objects found (the file holds ${describeKinds(objects)}); leave out --pods for a node without pods`,
    );
  const others = objects.filter(o => !isPod(o));
  if (others.length > 0)
    throw new UsageError(`${path}: --pods takes Pods only, the file also holds ${describeKinds(others)}`);
  return pods.map(item => {
    const pod = readPod(item.object);
    if (!pod) throw new UsageError(`${item.source}: invalid Pod: metadata.name: is required`);
    return pod;
  });
}

function loadTopology(path: string | undefined): Topology | undefined {
  if (path === undefined) return undefined;
  const objects = readObjects([path]);
  const item = objects[0];
  if (!item) throw new UsageError(`${path}: empty topology file`);
  if (objects.length > 1 || typeof item.object.kind === 'string')
    throw new UsageError(
      `${path}: expected one topology {"cpus":[...]}, the file holds ${describeKinds(objects)}`,
    );
  return parseWith(topologySchema, item, 'topology');
}

function loadPrevious(path: string | undefined): NodeIsolationPlan | undefined {
  if (path === undefined) return undefined;
  const objects = readObjects([path]);
  const item = objects.find(o => o.object.kind === 'NodeIsolationPlan');
  if (!item)
    throw new UsageError(`${path}: no NodeIsolationPlan found (the file holds ${describeKinds(objects)})`);
  return parseWith(planSchema, item, 'NodeIsolationPlan');
}

/**
 * The table also shows what the agent last reported about BE eviction, when the previous plan carries a status
 * (`kubectl get nip <node> -o yaml`); json and yaml stay the computed plan alone, as the controller would write it.
 */
function withReportedEviction(
  plan: NodeIsolationPlan,
  previous: NodeIsolationPlan | undefined,
): NodeIsolationPlan {
  const status = previous?.status;
  if (status === undefined) return plan;
  const { lastEvictionRound, memoryWorkingSetPercent } = status;
  return {
    ...plan,
    status: {
      ...(lastEvictionRound === undefined ? {} : { lastEvictionRound }),
      ...(memoryWorkingSetPercent === undefined ? {} : { memoryWorkingSetPercent }),
    },
  };
}

/**
 * The policies of --policy: problems the cluster would refuse are an error (exit 1); what it accepts (overlapping
 * selectors at one priority) is printed as a warning and planned as the controller would. None at all is an error.
 */
function loadPolicies(paths: readonly string[]): NodeQoSPolicy[] | undefined {
  const objects = readObjects(paths);
  const validation = validateObjects(objects);
  for (const p of validation.problems)
    console.error(`${p.clusterAccepts ? 'warning: ' : ''}${p.source}: ${p.object}: ${p.path}: ${p.message}`);
  if (validation.problems.some(p => p.clusterAccepts !== true)) return undefined;
  if (validation.policies.length === 0)
    throw new UsageError(`--policy ${paths.join(' ')}: no NodeQoSPolicy found (${describeKinds(objects)})`);
  return validation.policies.map(p => p.policy);
}

export function runPlan(options: PlanOptions): number {
  const policies = loadPolicies(options.policy);
  if (policies === undefined) return 1;
  const node = loadNode(options.node);
  const previous = loadPrevious(options.previous);
  // The controller's own function: the same policy choice, tie warning, plan, or reason for none.
  const outcome = planForNode({
    policies,
    node,
    pods: loadPods(options.pods),
    topology: loadTopology(options.topology),
    previous: previous?.spec,
    pressure: options.pressure,
  });
  if (outcome.kind === 'unselected')
    throw new UsageError(
      `no policy selects node ${node.metadata.name} (labels ${JSON.stringify(node.metadata.labels ?? {})}; ` +
        `policies: ${policies.map(p => p.metadata.name).join(', ')})`,
    );
  if (outcome.kind === 'unplannable') {
    console.error(`policy ${outcome.policy} selects the node but it cannot be planned: ${outcome.reason}`);
    return 1;
  }
  const shown = options.output === 'table' ? withReportedEviction(outcome.plan, previous) : outcome.plan;
  console.log(renderPlan(shown, options.output));
  return 0;
}
