// What the executor's passes (apply, restore, BE tier) share: the options, the session dependencies, the node's
// mechanisms, the backoff and the plan pods applied so far; and the pieces every pod pass uses.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { PlanPod } from '../../api/plan.ts';
import type { CgroupLayout, Controller } from '../cgroup/layout.ts';
import { PathRefusedError } from '../cgroup/safe-path.ts';
import { errnoOf, messageOf, type AgentFs } from '../fs.ts';
import type { NodeMechanisms } from '../mechanisms/index.ts';
import type { PodReport } from '../mechanisms/core/report.ts';
import type { OriginalValues, PodIdentity } from '../restore/original-values.ts';
import type { PodBackoff } from './backoff.ts';
import type { ExecutorMetrics } from './metrics.ts';
import type { NetQos } from './net-qos.ts';
import { CgroupSession, OwnerVanishedError, type SessionDeps } from './session.ts';

export interface ExecutorOptions {
  readonly fs: AgentFs;
  readonly layout: CgroupLayout;
  readonly store: OriginalValues;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly procRoot: string;
  readonly sysRoot: string;
  /** Memory values are page-aligned before writing (the kernel rounds them). Default 4096. */
  readonly pageSize?: number | undefined;
  /** Equal values are still rewritten this often (drift correction). Default 60 s. */
  readonly forceRewriteIntervalMs?: number | undefined;
  readonly backoffBaseMs?: number | undefined;
  readonly backoffMaxMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  /** Tag pods with their class's net_cls.classid (network QoS on; only where a net_cls hierarchy is mounted). */
  readonly netClassids?: boolean | undefined;
  /** The interface's egress HTB tree (network QoS on): its tc commands run here, serialised with every other write. */
  readonly net?: NetQos | undefined;
}

export interface PassContext {
  readonly options: ExecutorOptions;
  readonly deps: SessionDeps;
  readonly mechanisms: NodeMechanisms;
  readonly backoff: PodBackoff;
  readonly metrics: ExecutorMetrics;
  /** Plan pods applied, by uid (kept until they are restored). */
  readonly applied: Map<string, PlanPod>;
}

export function hasFailures(report: PodReport): boolean {
  return report.failed.length > 0;
}

export function podSession(ctx: PassContext, identity: PodIdentity, recordOriginals: boolean): CgroupSession {
  const { layout } = ctx.options;
  return new CgroupSession(ctx.deps, {
    identity,
    recordOriginals,
    dirOf: controller => layout.podDir(controller, identity.uid, identity.kubeQoS),
    parentDirOf: controller => layout.qosDir(controller, identity.kubeQoS),
  });
}

/** A session on the kubepods besteffort directory (the BE tier). */
export function tierSession(ctx: PassContext): CgroupSession {
  const { layout } = ctx.options;
  return new CgroupSession(ctx.deps, {
    identity: { uid: '', namespace: '', name: 'kubepods-besteffort', kubeQoS: 'BestEffort' },
    recordOriginals: false,
    dirOf: controller => layout.qosDir(controller, 'BestEffort'),
    parentDirOf: controller => layout.qosDir(controller, 'Guaranteed'),
  });
}

/** The controller whose pod directory tells whether the pod's cgroups exist. */
export function probeController(layout: CgroupLayout): Controller {
  return (['cpu', 'memory', 'cpuset', 'blkio'] as const).find(c => layout.hasController(c)) ?? 'cpu';
}

/**
 * Runs one pod's pass; vanished pods and refused paths end the pass for that pod only. `probe` first checks that the
 * pod's directory exists (the second half of a two-phase pass skips it: the first just did).
 */
export async function guarded(
  ctx: PassContext,
  session: CgroupSession,
  work: () => Promise<void>,
  probe = true,
): Promise<void> {
  try {
    const dir = session.target.dirOf(probeController(ctx.options.layout));
    if (probe && !(await ctx.options.fs.exists(dir))) throw new OwnerVanishedError(`${dir} does not exist`);
    await work();
  } catch (error) {
    if (error instanceof OwnerVanishedError) {
      session.report.outcome = 'vanished';
      return;
    }
    const errno = error instanceof PathRefusedError ? 'EPERM' : errnoOf(error);
    session.fail({ knob: 'pod' }, errno, messageOf(error));
    ctx.options.logger.error({ uid: session.target.identity.uid, err: error }, 'pod pass failed');
  }
}
