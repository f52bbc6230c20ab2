// The agent's conditions on its own Node: NodeQoSApplied (from the plan status), BEMemoryPressure and BECPUStarved
// (from the eviction samples, held by the transition period). Written with a strategic merge patch of nodes/status
// when one changes, else refreshed every heartbeat period; kubelet's conditions are never touched.
import type { Logger } from 'pino';
import type { NodeIsolationPlan, PlanEviction } from '../../api/plan.ts';
import { errorMessage } from '../../kube/errors.ts';
import type { EvictionState } from '../eviction/runner.ts';
import type { KubeRequester } from '../eviction/kube-calls.ts';
import { patchNodeConditions, patchNodeTaints, readNode } from './node-api.ts';
import {
  agentConditionTypes,
  nextConditions,
  PressureObservation,
  type DesiredCondition,
  type NodeCondition,
} from './transition.ts';

type PlanStatus = NonNullable<NodeIsolationPlan['status']>;

export interface ConditionInputs {
  readonly planStatus: PlanStatus | undefined;
  readonly eviction: EvictionState | undefined;
  readonly settings: PlanEviction | undefined;
}

/** NodeQoSApplied mirrors the plan status's Applied condition (Unknown before the agent has applied anything). */
function appliedCondition(status: PlanStatus | undefined): DesiredCondition {
  const applied = status?.conditions?.find(c => c.type === 'Applied');
  if (!applied)
    return { type: 'NodeQoSApplied', status: 'Unknown', reason: 'NoPlan', message: 'no plan applied yet' };
  const degraded = status?.conditions?.find(c => c.type === 'Degraded' && c.status === 'True');
  return {
    type: 'NodeQoSApplied',
    status: applied.status === 'True' ? 'True' : 'False',
    reason: degraded?.reason ?? applied.reason,
    // The pod counts change with every pod; the message names the state, not the figures (no patch per pod).
    message:
      applied.status !== 'True'
        ? 'the plan was refused; previous values kept (see the plan status)'
        : degraded
          ? 'applied with errors (see the plan status)'
          : 'every pod applied',
  };
}

function isBePressureTaint(taint: { key: string; effect: string }): boolean {
  return taint.key === bePressureTaint.key && taint.effect === bePressureTaint.effect;
}

function memoryCondition(settings: PlanEviction | undefined, active: boolean): DesiredCondition {
  const type = 'BEMemoryPressure';
  if (settings?.memory.enabled !== true)
    return { type, status: 'False', reason: 'EvictionOff', message: 'BE memory eviction is off' };
  const threshold = settings.memory.thresholdPercent;
  return active
    ? {
        type,
        status: 'True',
        reason: 'WorkingSetOverThreshold',
        message: `node memory working set at or above ${threshold}% within the last ${settings.conditionTransitionSeconds}s`,
      }
    : {
        type,
        status: 'False',
        reason: 'WorkingSetBelowThreshold',
        message: `node memory working set below ${threshold}%`,
      };
}

function cpuCondition(settings: PlanEviction | undefined, active: boolean): DesiredCondition {
  const type = 'BECPUStarved';
  if (settings?.cpu.enabled !== true)
    return { type, status: 'False', reason: 'EvictionOff', message: 'BE CPU eviction is off' };
  const lower = settings.cpu.satisfactionLowerPercent;
  return active
    ? {
        type,
        status: 'True',
        reason: 'SatisfactionBelowLower',
        message: `BE tier limit at or below ${lower}% of BE requests while fully used, within the last ${settings.conditionTransitionSeconds}s`,
      }
    : {
        type,
        status: 'False',
        reason: 'Satisfied',
        message: `BE tier limit above ${lower}% of BE requests, or not fully used`,
      };
}

/** The taint of `spec.eviction.taint`: pods without its toleration are not scheduled while BE is under pressure. */
export const bePressureTaint = { key: 'nodeqos.io/be-pressure', effect: 'NoSchedule' } as const;

export class NodeConditionsPublisher {
  readonly #client: KubeRequester;
  readonly #nodeName: string;
  readonly #logger: Logger;
  readonly #heartbeatMs: number;
  readonly #memory = new PressureObservation();
  readonly #cpu = new PressureObservation();
  #current: NodeCondition[] | undefined;
  #lastPatchAt = 0;
  /** The last failure logged: a missing permission (403) is logged once, not every 10 s. */
  #lastError: string | undefined;
  /** Whether the Node carries the BE pressure taint, as last read or written; undefined: not known. */
  #tainted: boolean | undefined;

  constructor(options: { client: KubeRequester; nodeName: string; logger: Logger; heartbeatMs?: number }) {
    this.#client = options.client;
    this.#nodeName = options.nodeName;
    this.#logger = options.logger;
    this.#heartbeatMs = options.heartbeatMs ?? 5 * 60_000;
  }

  /** The conditions as they should read at `now`; records the samples' observations first. */
  desired(inputs: ConditionInputs, now: number): DesiredCondition[] {
    const { eviction, settings } = inputs;
    this.#memory.observe(eviction?.memory?.over === true, now);
    this.#cpu.observe(eviction?.cpu?.starvedNow === true, now);
    const transitionMs = (settings?.conditionTransitionSeconds ?? 0) * 1000;
    return [
      appliedCondition(inputs.planStatus),
      memoryCondition(settings, this.#memory.active(now, transitionMs)),
      cpuCondition(settings, this.#cpu.active(now, transitionMs)),
    ];
  }

  /** Patches the Node when a condition changed or the heartbeat is due. Failures are logged and retried next time. */
  async publish(inputs: ConditionInputs, now: number): Promise<boolean> {
    const desired = this.desired(inputs, now);
    try {
      if (this.#current === undefined) {
        const node = await readNode(this.#client, this.#nodeName);
        this.#current = node.conditions.filter(c =>
          (agentConditionTypes as readonly string[]).includes(c.type),
        );
        this.#tainted = node.taints.some(isBePressureTaint);
      }
      await this.#reconcileTaint(inputs, desired);
      const update = nextConditions(this.#current, desired, new Date(now).toISOString());
      if (!update.changed && now - this.#lastPatchAt < this.#heartbeatMs) return false;
      await patchNodeConditions(this.#client, this.#nodeName, update.conditions);
      if (update.changed)
        this.#logger.info(
          { conditions: update.conditions.map(c => `${c.type}=${c.status} (${c.reason})`) },
          'node conditions changed',
        );
      this.#current = update.conditions;
      this.#lastPatchAt = now;
      this.#lastError = undefined;
      return true;
    } catch (error) {
      const message = errorMessage(error);
      if (message !== this.#lastError) this.#logger.warn({ error: message }, 'node conditions not written');
      this.#lastError = message;
      this.#current = undefined;
      this.#tainted = undefined;
      return false;
    }
  }

  /** Adds or removes the BE pressure taint (only that one) when the policy's switch and the conditions say so. */
  async #reconcileTaint(inputs: ConditionInputs, desired: readonly DesiredCondition[]): Promise<void> {
    const pressured = desired.some(
      c => (c.type === 'BEMemoryPressure' || c.type === 'BECPUStarved') && c.status === 'True',
    );
    const want = inputs.settings?.taint === true && pressured;
    if (want === this.#tainted) return;
    const node = await readNode(this.#client, this.#nodeName);
    const others = node.taints.filter(t => !isBePressureTaint(t));
    await patchNodeTaints(
      this.#client,
      this.#nodeName,
      want ? [...others, { ...bePressureTaint }] : others,
      node.resourceVersion,
    );
    this.#tainted = want;
    this.#logger.info(
      { taint: `${bePressureTaint.key}:${bePressureTaint.effect}`, present: want },
      'node taint changed',
    );
  }
}
