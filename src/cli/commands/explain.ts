// nodeqos explain <node> (also `kubectl nodeqos explain <node>`): the node's plan next to what its agent applied.
import { KubeConfig } from '@kubernetes/client-node';
import { planSchema } from '../../api/plan.ts';
import { describeProblems, fieldProblems } from '../../api/issues.ts';
import { isNotFound } from '../../kube/errors.ts';
import { KubeHttp } from '../../kube/http.ts';
import { loadKubeConfig } from '../../kube/kubeconfig.ts';
import { plansPath } from '../../kube/sources.ts';
import { renderExplain } from '../explain/render-explain.ts';
import { UsageError } from '../usage-error.ts';

export interface ExplainOptions {
  kubeconfig?: string;
  context?: string;
}

function kubeConfigFor(options: ExplainOptions): KubeConfig {
  const kc = loadKubeConfig(options.kubeconfig);
  if (options.context !== undefined) kc.setCurrentContext(options.context);
  return kc;
}

export async function runExplain(node: string, options: ExplainOptions): Promise<number> {
  const http = new KubeHttp(kubeConfigFor(options));
  let raw: unknown;
  try {
    raw = await http.request('GET', `${plansPath}/${encodeURIComponent(node)}`);
  } catch (error) {
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
  console.log(renderExplain(parsed.data, { now: new Date() }));
  return 0;
}
