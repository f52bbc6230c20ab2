// Every version of every NodeIsolationPlan spec the API server stored during a run. It listens to the dev server's
// store, not to a watch: a watch under injected faults may legitimately skip versions (a relist after 410 folds
// them into one), and the invariants must hold for each version the agents could have applied.
import type { DevServer, StoredEvent } from '../../src/devserver/index.ts';
import { canonicalJson } from '../../src/api/canonical-json.ts';

export const plansResource = 'nodeisolationplans.nodeqos.io';

export interface PlanVersion {
  readonly node: string;
  readonly resourceVersion: number;
  /** The spec as stored (frozen by the store). */
  readonly spec: unknown;
  /** Field managers of the write that produced it (nodeqos-controller, or a chaos writer). */
  readonly managers: readonly string[];
}

function managersOf(object: StoredEvent['object']): string[] {
  const fields = (object.metadata as { managedFields?: { manager?: string }[] } | undefined)?.managedFields;
  return [...new Set((fields ?? []).map(f => f.manager ?? '?'))];
}

export class PlanHistory {
  readonly versions: PlanVersion[] = [];
  private readonly lastSpec = new Map<string, string>();
  private readonly unsubscribe: () => void;

  constructor(server: DevServer) {
    this.unsubscribe = server.store.subscribe(event => {
      this.record(event);
    });
  }

  private record(event: StoredEvent): void {
    if (event.resource !== plansResource) return;
    const node = (event.object.metadata as { name?: string } | undefined)?.name ?? '?';
    if (event.type === 'DELETED') {
      this.lastSpec.delete(node);
      return;
    }
    const spec = event.object.spec;
    const key = canonicalJson(spec);
    if (this.lastSpec.get(node) === key) return; // a status write: the spec the agent applies did not change
    this.lastSpec.set(node, key);
    this.versions.push({
      node,
      resourceVersion: event.resourceVersion,
      spec,
      managers: managersOf(event.object),
    });
  }

  stop(): void {
    this.unsubscribe();
  }
}
