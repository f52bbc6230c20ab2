// Network QoS in the runtime: the plan's egress classes applied through the agent (the executor runs tc), and what
// the status says about them: the classes tc could not set up, or why nothing was applied.
import type { Logger } from 'pino';
import type { NodeIsolationPlan } from '../../api/plan.ts';
import { errorMessage } from '../../kube/errors.ts';
import type { NodeAgent } from '../apply-plan.ts';

/** Applies the plan's classes; the status lines to report, or undefined when network QoS is off (nothing changes). */
export async function applyNetwork(
  agent: NodeAgent,
  plan: NodeIsolationPlan,
  logger: Logger,
): Promise<string[] | undefined> {
  try {
    const result = await agent.applyNetwork(plan.spec.net.classes);
    if (!result) return undefined;
    if (result.commands.length > 0) logger.info({ commands: result.commands.length }, 'network QoS changed');
    return result.status
      .filter(s => s.status === 'unsupported')
      .map(s => `net ${s.item}: ${s.message}`.slice(0, 256));
  } catch (error) {
    logger.error({ error: errorMessage(error) }, 'network QoS not applied');
    return [`net: ${errorMessage(error)}`.slice(0, 256)];
  }
}
