// The last good plan, kept on the node (durable-file.ts: checksummed, fsynced, renamed), so an agent that restarts
// while the API server is unreachable still enforces it. A corrupt or truncated copy is moved aside and ignored.
import { join } from 'node:path';
import { planSchema, type NodeIsolationPlan } from '../../api/plan.ts';
import { quarantine, readDurable, removeDurable, writeDurable } from '../durable-file.ts';

const fileName = 'last-plan.json';

export type CachedPlanResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly plan: NodeIsolationPlan }
  | { readonly kind: 'corrupt'; readonly reason: string };

export class PlanCache {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, fileName);
  }

  async save(plan: NodeIsolationPlan): Promise<void> {
    await writeDurable(this.path, plan);
  }

  async clear(): Promise<void> {
    await removeDurable(this.path);
  }

  /** Moves an unusable copy aside (bounded number of copies kept); returns where it went. */
  async setAside(): Promise<string> {
    return quarantine(this.path);
  }

  async load(nodeName: string): Promise<CachedPlanResult> {
    const read = await readDurable(this.path);
    if (read.kind !== 'ok') return read;
    const parsed = planSchema.safeParse(read.payload);
    if (!parsed.success) return { kind: 'corrupt', reason: 'not a valid NodeIsolationPlan' };
    if (parsed.data.spec.nodeName !== nodeName) {
      return { kind: 'corrupt', reason: `plan is for node ${parsed.data.spec.nodeName}, not ${nodeName}` };
    }
    return { kind: 'ok', plan: parsed.data };
  }
}
