// What one pass did to one pod: every knob ends up written, skipped (already right), failed, or unsupported.

export interface KnobRef {
  /** The cgroup file (or "oom_score_adj"). */
  readonly knob: string;
  /** Container directory name; absent for the pod's own directory. */
  readonly container?: string;
}

export interface KnobFailure extends KnobRef {
  /** errno from the kernel (EINVAL, EBUSY, EACCES...); ERANGE when the agent refused the value before writing. */
  readonly errno: string;
  readonly message: string;
}

export interface UnsupportedKnob {
  readonly knob: string;
  readonly reason: string;
}

export interface OomReport {
  readonly written: number;
  readonly unchanged: number;
  /** Processes that exited between listing and writing: not an error. */
  readonly vanishedPids: number;
}

export type PodOutcome = 'applied' | 'restored' | 'failed' | 'vanished' | 'backoff';

export interface PodReport {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  outcome: PodOutcome;
  readonly written: KnobRef[];
  readonly skipped: KnobRef[];
  readonly failed: KnobFailure[];
  readonly unsupported: UnsupportedKnob[];
  /** Container cgroups that disappeared during the pass (restarted containers): not an error. */
  readonly vanishedContainers: string[];
  /** Sub-directories of the pod cgroup whose names were refused (hidden or odd): never entered. */
  readonly refusedContainers: string[];
  /** Things left as they are on restore because no original value is known (reported, never guessed). */
  readonly leftAsIs: UnsupportedKnob[];
  oom?: OomReport;
  /** With outcome 'backoff': when the next attempt is due (ms since epoch). */
  retryAt?: number;
}

export function emptyPodReport(pod: {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
}): PodReport {
  return {
    uid: pod.uid,
    namespace: pod.namespace,
    name: pod.name,
    outcome: 'applied',
    written: [],
    skipped: [],
    failed: [],
    unsupported: [],
    vanishedContainers: [],
    refusedContainers: [],
    leftAsIs: [],
  };
}

export function knobLabel(ref: KnobRef): string {
  return ref.container === undefined ? ref.knob : `${ref.container}/${ref.knob}`;
}
