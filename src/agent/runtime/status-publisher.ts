// When the agent writes its plan's status: the first one, a change beyond the figures sampled every tick (pressure,
// BE quota, suppress ratio), or the periodic refresh. A failed write is logged; enforcing goes on.
import type { Logger } from 'pino';
import { canonicalJson } from '../../api/canonical-json.ts';
import { errorMessage } from '../../kube/errors.ts';
import type { PlanStatus } from './plan-status.ts';

/** Status without the figures that change every sample (pressure only counts once it is known). */
function significantStatus(status: PlanStatus): string {
  return canonicalJson({
    ...status,
    lastAppliedTime: undefined,
    pressure: status.pressure === undefined ? undefined : 'known',
    beQuotaUs: undefined,
    suppressRatio: undefined,
    memoryWorkingSetPercent: undefined,
  });
}

export class StatusPublisher {
  readonly #write: ((status: PlanStatus) => Promise<void>) | undefined;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  #last: PlanStatus | undefined;
  #lastAt = 0;

  constructor(
    write: ((status: PlanStatus) => Promise<void>) | undefined,
    intervalMs: number,
    logger: Logger,
  ) {
    this.#write = write;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
  }

  /** The status last written. */
  get last(): PlanStatus | undefined {
    return this.#last;
  }

  /** Worth a write: the first status, a change beyond the sampled figures, or the periodic refresh. */
  #due(status: PlanStatus): boolean {
    if (this.#last === undefined) return true;
    if (Date.now() - this.#lastAt >= this.#intervalMs) return true;
    return significantStatus(status) !== significantStatus(this.#last);
  }

  /** Writes the status when there is one, a writer, and it is due. */
  async publish(status: PlanStatus | undefined): Promise<void> {
    const write = this.#write;
    if (!write || !status || !this.#due(status)) return;
    try {
      await write(status);
      this.#last = status;
      this.#lastAt = Date.now();
    } catch (error) {
      this.#logger.warn({ error: errorMessage(error) }, 'plan status not written; enforcing anyway');
    }
  }
}
