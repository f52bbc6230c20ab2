// Every plan write the API server stored, with the time it happened, seen from the server's side: the count the
// benchmark reports is what reached the API server, not what the controller believes it wrote.
import type { JsonObject, ObjectStore, StoredEvent } from '../../src/devserver/index.ts';
import { resources } from './cluster.ts';

export interface PlanEvent {
  readonly node: string;
  readonly type: StoredEvent['type'];
  /** performance.now() of this process when the store committed the write. */
  readonly at: number;
  readonly policyGeneration: number | undefined;
}

function planEvent(event: StoredEvent): PlanEvent {
  const metadata = event.object.metadata as JsonObject;
  const spec = event.object.spec as JsonObject | undefined;
  const generation = spec?.policyGeneration;
  return {
    node: typeof metadata.name === 'string' ? metadata.name : '',
    type: event.type,
    at: performance.now(),
    policyGeneration: typeof generation === 'number' ? generation : undefined,
  };
}

export class PlanLog {
  private readonly events: PlanEvent[] = [];
  private readonly listeners = new Set<(event: PlanEvent) => void>();
  private readonly unsubscribe: () => void;

  constructor(store: ObjectStore) {
    this.unsubscribe = store.subscribe(event => {
      if (event.resource !== resources.plans) return;
      const entry = planEvent(event);
      this.events.push(entry);
      for (const listener of this.listeners) listener(entry);
    });
  }

  /** A position in the log; since(mark) gives what came after. */
  mark(): number {
    return this.events.length;
  }

  since(mark: number): PlanEvent[] {
    return this.events.slice(mark);
  }

  /**
   * Resolves with the time of the write that completed the set: every node in `nodes` has had an accepted write
   * after `mark`. Rejects after `timeoutMs`, saying how many nodes were still missing.
   */
  waitForNodes(
    nodes: ReadonlySet<string>,
    mark: number,
    accept: (event: PlanEvent) => boolean,
    timeoutMs: number,
  ): Promise<number> {
    const missing = new Set(nodes);
    let lastAt = performance.now();
    const take = (event: PlanEvent): void => {
      if (accept(event) && missing.delete(event.node)) lastAt = event.at;
    };
    for (const event of this.since(mark)) take(event);
    if (missing.size === 0) return Promise.resolve(lastAt);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`${missing.size} of ${nodes.size} nodes had no plan write within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (event: PlanEvent): void => {
        take(event);
        if (missing.size > 0) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(lastAt);
      };
      this.listeners.add(listener);
    });
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }
}
