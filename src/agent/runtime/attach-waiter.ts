// A new container's first process: the runtime (runc) creates the container's cgroup, then moves the process in,
// and cgroup v1 sends no inotify event for the move (cgroup.procs never reports a change). So after a container
// directory appears, its cgroup.procs is polled every few ms until it lists a process; then the container's pod
// gets the pass that writes the processes' oom_score_adj. Polling ends at the first process, when the directory
// goes, or after giveUpMs (a pass then runs anyway; the drift check covers anything later).
import { errnoOf, nodeFs, type AgentFs } from '../fs.ts';

export interface AttachWaiterOptions {
  /** Called once per waited container: its process is attached, or the wait gave up. */
  readonly attached: (uid: string) => void;
  readonly pollMs?: number;
  readonly giveUpMs?: number;
  readonly fs?: Pick<AgentFs, 'readFile'>;
  readonly now?: () => number;
}

interface Waiting {
  readonly uid: string;
  readonly procs: string;
  readonly until: number;
}

export class AttachWaiter {
  readonly #options: AttachWaiterOptions;
  readonly #waiting = new Map<string, Waiting>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AttachWaiterOptions) {
    this.#options = options;
  }

  /** Waits for a process in the container directory `dir` (one wait per key, whichever hierarchy reports first). */
  wait(key: string, uid: string, dir: string): void {
    if (this.#waiting.has(key)) return;
    const now = this.#options.now ?? performance.now.bind(performance);
    this.#waiting.set(key, {
      uid,
      procs: `${dir}/cgroup.procs`,
      until: now() + (this.#options.giveUpMs ?? 2_000),
    });
    this.#timer ??= setInterval(() => {
      void this.#poll();
    }, this.#options.pollMs ?? 5);
  }

  async #poll(): Promise<void> {
    const now = (this.#options.now ?? performance.now.bind(performance))();
    const fs = this.#options.fs ?? nodeFs;
    for (const [key, waiting] of this.#waiting) {
      let text: string;
      try {
        text = await fs.readFile(waiting.procs);
      } catch (error) {
        // The container went away before a process came (or cannot be read): nothing to wait for.
        if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENODEV') this.#waiting.delete(key);
        else if (now >= waiting.until) this.#done(key, waiting);
        continue;
      }
      if (text.trim() !== '' || now >= waiting.until) this.#done(key, waiting);
    }
    if (this.#waiting.size === 0) this.close();
  }

  #done(key: string, waiting: Waiting): void {
    this.#waiting.delete(key);
    this.#options.attached(waiting.uid);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#waiting.clear();
  }
}
