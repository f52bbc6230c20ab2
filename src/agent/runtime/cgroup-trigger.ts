// New pod and container cgroups (inotify, watch/cgroup-watcher.ts) trigger a pass over their pods at once instead of
// at the next drift check. Several directories appearing together are applied in one queued pass.
import type { Logger } from 'pino';
import { errorMessage } from '../../kube/errors.ts';
import { CgroupWatcher, type CgroupWatchEvent, type CgroupWatcherOptions } from '../watch/cgroup-watcher.ts';
import { AttachWaiter } from './attach-waiter.ts';

export interface CgroupTriggerOptions {
  readonly watch: Pick<CgroupWatcherOptions, 'hierarchies' | 'driver'>;
  readonly logger: Logger;
  /** Queues a runtime step (one at a time, behind the steps already queued). */
  readonly enqueue: (step: () => Promise<void>) => void;
  /** Re-applies the plan current when the step runs, to what changed and to the pods whose cgroups appeared. */
  readonly reapply: (uids: ReadonlySet<string>) => Promise<void>;
}

export class CgroupTrigger {
  readonly #options: CgroupTriggerOptions;
  #watcher: CgroupWatcher | undefined;
  /** A new-cgroup pass is queued (several directories appearing together are applied in one pass). */
  #passQueued = false;
  /** The pods whose cgroups appeared since the queued pass was queued (it takes them when it runs). */
  #uids = new Set<string>();
  readonly #retries = new Set<NodeJS.Timeout>();
  readonly #attach = new AttachWaiter({
    attached: uid => {
      this.#queuePass(uid);
    },
  });

  constructor(options: CgroupTriggerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#watcher = new CgroupWatcher({
      ...this.#options.watch,
      onEvent: event => {
        this.#onEvent(event);
      },
      onError: error => {
        this.#options.logger.warn({ error: errorMessage(error) }, 'cgroup watch error');
      },
    });
    this.#watcher.start();
  }

  /**
   * A pod or container cgroup appeared: apply the plan to its pod now, so the container runs isolated from its first
   * moments. The runtime creates the directory before it attaches the process, so one more pass for the pod follows
   * as soon as the container's cgroup.procs lists a process (attach-waiter.ts), for the processes' oom_score_adj (a
   * later process in the container inherits it).
   */
  #onEvent(event: CgroupWatchEvent): void {
    if (event.type === 'watch-limit' || event.type === 'watch-restored')
      this.#options.logger.warn(
        { hierarchy: event.hierarchy, event: event.type },
        'cgroup watch degraded or back',
      );
    if (event.type !== 'container-added' && event.type !== 'pod-added') return;
    const { uid } = event;
    this.#queuePass(uid);
    if (event.type === 'container-added' && event.source !== 'initial')
      this.#attach.wait(`${uid}/${event.container}`, uid, event.dir);
    // And once more a little later, as before the attach wait: a runtime that fills the directory's files after
    // creating it (not cgroupfs, where they come with the mkdir; a simulated node's plain files) is caught there.
    const retry = setTimeout(() => {
      this.#retries.delete(retry);
      this.#queuePass(uid);
    }, 100);
    this.#retries.add(retry);
  }

  #queuePass(uid: string): void {
    this.#uids.add(uid);
    if (this.#passQueued) return;
    this.#passQueued = true;
    this.#options.enqueue(async () => {
      this.#passQueued = false;
      const uids = this.#uids;
      this.#uids = new Set();
      await this.#options.reapply(uids);
    });
  }

  close(): void {
    for (const retry of this.#retries) clearTimeout(retry);
    this.#attach.close();
    this.#watcher?.close();
  }
}
