// Every version of every NodeIsolationPlan spec the API server stored during a run. It listens to the dev server's
// store (or, on a server the suite does not own, to a watch on the harness's own connection, which faults never
// touch), not to the system's watches: a watch under injected faults may legitimately skip versions (a relist
// after 410 folds them into one), and the invariants must hold for each version the agents could have applied.
import type { JsonObject } from '../../src/devserver/index.ts';
import { canonicalJson } from '../../src/api/canonical-json.ts';
import type { ChaosApiServer, PlanChange } from './api-server.ts';

export { plansResource } from './api-server.ts';

export interface PlanVersion {
  readonly node: string;
  readonly resourceVersion: number;
  /** The spec as stored (frozen by the store). */
  readonly spec: unknown;
  /** Field managers of the write that produced it (nodeqos-controller, or a chaos writer). */
  readonly managers: readonly string[];
}

function managersOf(object: JsonObject): string[] {
  const fields = (object.metadata as { managedFields?: { manager?: string }[] } | undefined)?.managedFields;
  return [...new Set((fields ?? []).map(f => f.manager ?? '?'))];
}

export class PlanHistory {
  readonly versions: PlanVersion[] = [];
  private readonly lastSpec = new Map<string, string>();
  private stopped = false;

  /** Starts recording; resolves once it is (on an external server, after the initial list). */
  static async record(api: ChaosApiServer): Promise<PlanHistory> {
    const history = new PlanHistory();
    await api.onPlanChange(change => {
      if (!history.stopped) history.add(change);
    });
    return history;
  }

  private add(event: PlanChange): void {
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
    this.stopped = true;
  }
}
