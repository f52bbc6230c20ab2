// The Events of one eviction round: a Warning on each evicted pod and each refused pod, and one on the Node. An
// Event that cannot be written is logged, never a reason to fail the round.
import type { Logger } from 'pino';
import { errorMessage } from '../../kube/errors.ts';
import { recordEvent, type KubeRequester } from './kube-calls.ts';
import type { RankedVictim } from './ranking.ts';
import type { RoundResult } from './round.ts';

const agentComponent = 'nodeqos-agent';

export interface RoundEventsContext {
  readonly client: KubeRequester;
  readonly nodeName: string;
  readonly logger: Logger;
  readonly now: Date;
}

function describePod(resource: 'memory' | 'cpu', pod: RankedVictim): string {
  return resource === 'memory'
    ? `working set ${pod.usage ?? 'unknown'} bytes, request ${pod.request} bytes, priority ${pod.priority ?? 0}`
    : `CPU request ${pod.credit}m, priority ${pod.priority ?? 0}`;
}

export async function recordRoundEvents(
  ctx: RoundEventsContext,
  resource: 'memory' | 'cpu',
  reason: string,
  result: RoundResult,
): Promise<void> {
  const { client, nodeName, logger, now } = ctx;
  const send = async (...args: Parameters<typeof recordEvent>): Promise<void> => {
    try {
      await recordEvent(...args);
    } catch (error) {
      logger.warn({ error: errorMessage(error), object: args[1].name }, 'event not recorded');
    }
  };
  const podTarget = (pod: RankedVictim): Parameters<typeof recordEvent>[1] => ({
    kind: 'Pod',
    name: pod.name,
    namespace: pod.namespace,
    uid: pod.uid,
  });
  const eventReason = resource === 'memory' ? 'BEMemoryEviction' : 'BECPUEviction';
  for (const pod of result.evicted)
    await send(client, podTarget(pod), {
      type: 'Warning',
      reason: eventReason,
      message: `evicted by ${agentComponent} on ${nodeName}: ${reason}; this pod: ${describePod(resource, pod)}`,
      component: agentComponent,
      now,
    });
  for (const { pod, reason: why } of result.refused)
    await send(client, podTarget(pod), {
      type: 'Warning',
      reason: 'BEEvictionRefused',
      message: `eviction refused (${why}); retried after the cool-down. ${reason}`,
      component: agentComponent,
      now,
    });
  const evicted = result.evicted.map(p => p.key).join(', ') || 'none';
  const refused =
    result.refused.length > 0 ? `; refused ${result.refused.map(r => r.pod.key).join(', ')}` : '';
  await send(
    client,
    { kind: 'Node', name: nodeName },
    {
      type: 'Warning',
      reason: eventReason,
      message: `${reason}; evicted ${evicted}${refused}`,
      component: agentComponent,
      now,
    },
  );
}
