// nodeqos explain <node> (also `kubectl nodeqos <node>`): the node's plan next to what its agent applied.
import { apiGroup, apiVersionName } from '../../api/group.ts';
import { planSchema } from '../../api/plan.ts';
import { describeProblems, fieldProblems } from '../../api/issues.ts';
import { isNotFound } from '../../kube/errors.ts';
import { getJson } from '../../kube/get-json.ts';
import { KubeconfigError, resolveConnection } from '../../kube/kubectl-config.ts';
import { renderExplain } from '../explain/render-explain.ts';
import { UsageError } from '../usage-error.ts';

export interface ExplainOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

const plansPath = `/apis/${apiGroup}/${apiVersionName}/nodeisolationplans`;

export async function runExplain(node: string, options: ExplainOptions): Promise<number> {
  let raw: unknown;
  try {
    const connection = resolveConnection(options);
    raw = await getJson(connection, `${plansPath}/${encodeURIComponent(node)}`);
  } catch (error) {
    if (error instanceof KubeconfigError) throw new UsageError(error.message);
    if (isNotFound(error))
      throw new UsageError(
        `node ${node} has no NodeIsolationPlan (no policy selects it, or the node does not exist)`,
      );
    throw error;
  }
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(
      `plan ${node} is not a valid NodeIsolationPlan:\n${describeProblems(fieldProblems(parsed.error))}`,
    );
  console.log(renderExplain(parsed.data, { now: new Date(), namespace: options.namespace }));
  return 0;
}
