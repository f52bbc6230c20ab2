// The one interface every mechanism (cpuset, cpu, memory, blkio, net_cls) implements, in the spirit of koordlet's
// QOSStrategy: a mechanism decides values and orders writes; it never writes. For a plan pod it says what its files
// should hold, as typed values by file name, and what this node cannot enforce; for a pod leaving the plan without a
// usable record it gives kubelet's values; and it turns desired values into ordered writes through the session.
// The executor runs the mechanisms in a fixed order, commits their writes and restores them.
import type { PlanPod } from '../../../api/plan.ts';
import type { CgroupVersion } from '../../cgroup/layout.ts';
import type { BlockDevice } from '../../discovery/block-devices.ts';
import type { AppliedCheck, AppliedValues } from './applied.ts';
import type { CpuMax } from './codecs.ts';
import type { PodDesired } from './desired.ts';
import type { Knob } from './knob.ts';
import type { UnsupportedKnob } from './report.ts';
import type { MechanismSession, WriteOp } from './session.ts';

/** leftAsIs reason: kubelet sets the value from the pod spec, which the agent does not have on restore. */
export const notDerivable = 'no original recorded and kubelet derives it from the pod spec: left as is';

/** What the node offers, fixed for the agent's life: each mechanism picks its files from it. */
export interface NodeSpec {
  readonly version: CgroupVersion;
  /** Memory values are page-aligned before writing (the kernel rounds them). */
  readonly pageSize: number;
  /** Tag pods with net_cls.classid: network QoS is on and a v1 net_cls hierarchy is mounted. */
  readonly netClassids: boolean;
}

/** What a plan pass knows besides the pod. */
export interface PlanFacts {
  readonly devices: readonly BlockDevice[];
  /** The BE tier quota in force (null when unlimited); BE-class pods get at most this. */
  readonly beTier: CpuMax | null;
}

export interface Wanted {
  /** Pod-level values by file name. */
  readonly values: ReadonlyMap<string, unknown>;
  /** What the plan asks for that this node cannot enforce (reported, not retried). */
  readonly unsupported: readonly UnsupportedKnob[];
}

export interface RestoreDefaults {
  /** kubelet's values where they are derivable without the pod spec, by file name. */
  readonly values: ReadonlyMap<string, unknown>;
  /** Knobs kubelet derives from the pod spec (requests, limits, QoS policy): left as they are, and reported. */
  readonly leftAsIs: readonly UnsupportedKnob[];
}

/** What the plan wants of the kubepods besteffort directory itself. */
export interface TierPlan {
  /** spec.cpuSuppress.beIdle: cpu.idle=1 on the tier; false: its original back if the agent changed it. */
  readonly idle: boolean;
}

/** The tier directory's originals in the original-values record, by file. */
export interface TierOriginals {
  /** The original-values file was unusable at start: what the tier holds may be a previous agent's writes. */
  readonly lost: boolean;
  get(file: string): unknown;
  recordIfAbsent(file: string, value: unknown): void;
}

/**
 * A tier pass yields batches of writes; the executor saves the originals and commits each batch before the pass
 * goes on (a later read may depend on an earlier write). It returns 'restored' when the tier directory holds its
 * originals again, so the executor may forget them.
 */
export type TierPass = AsyncGenerator<readonly WriteOp[], 'restored' | 'kept'>;

export interface Mechanism {
  readonly name: string;
  /** Every file this mechanism may write on this node. */
  readonly knobs: readonly Knob<unknown>[];
  /** A plan pod's values (session: to look at what the pod's directory offers, e.g. which weight file exists). */
  want(pod: PlanPod, facts: PlanFacts, session: MechanismSession): Promise<Wanted>;
  /** kubelet's values for a pod whose originals are lost (session: to read the parent, e.g. its cpuset). */
  kubeletDefaults(session: MechanismSession): Promise<RestoreDefaults>;
  /** Desired values (apply or restore) as ordered writes, read and checked through the session. */
  ops(session: MechanismSession, desired: PodDesired): Promise<WriteOp[]>;
  /** The per-pod gauge values this mechanism's files hold after a pass. */
  applied?(pod: PlanPod, ok: AppliedCheck, facts: PlanFacts): Partial<AppliedValues>;
  /** Writes on the kubepods besteffort directory itself (after the pods of a plan pass). */
  tier?(session: MechanismSession, originals: TierOriginals, plan: TierPlan): TierPass;
}
