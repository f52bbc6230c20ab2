// BE eviction in words, for `nodeqos plan -o table` and `nodeqos explain`: the plan's settings and the agent's
// last round.
import type { NodeIsolationPlan } from '../api/plan.ts';
import { formatBytes } from './format-bytes.ts';

export function evictionSettingsLines(plan: NodeIsolationPlan): string[] {
  const e = plan.spec.eviction;
  if (e === undefined) return ['BE eviction: not in this plan (older controller): off'];
  const m = e.memory;
  const c = e.cpu;
  const memory = m.enabled
    ? `on, working set >= ${m.thresholdPercent}% -> down to ${m.lowerPercent}%, min reclaim ${formatBytes(m.minReclaimBytes, '0')}, cool-down ${m.coolDownSeconds}s`
    : 'off';
  const cpu = c.enabled
    ? `on, satisfaction <= ${c.satisfactionLowerPercent}% with usage >= ${c.usageThresholdPercent}% for ${c.windowSeconds}s -> up to ${c.satisfactionUpperPercent}%, cool-down ${c.coolDownSeconds}s`
    : 'off';
  return [
    `BE eviction: memory ${memory}; cpu ${cpu}; never above priority ${e.priorityThreshold}; conditions hold ${e.conditionTransitionSeconds}s${e.taint === true ? '; taint nodeqos.io/be-pressure while they are True' : ''}`,
  ];
}

export function lastEvictionLines(plan: NodeIsolationPlan): string[] {
  const status = plan.status;
  if (status === undefined) return [];
  const figures =
    status.memoryWorkingSetPercent === undefined
      ? ''
      : `node working set ${status.memoryWorkingSetPercent.toFixed(1)}%; `;
  const round = status.lastEvictionRound;
  if (round === undefined) return [`last eviction round: ${figures}none`];
  const refused = round.refused.map(r => `${r.pod} (${r.reason})`).join(', ');
  return [
    `last eviction round: ${figures}${round.time} ${round.resource}: evicted ${round.evicted.join(', ') || 'none'}` +
      (refused === '' ? '' : `; refused ${refused}`),
    `  why: ${round.reason}`,
  ];
}
