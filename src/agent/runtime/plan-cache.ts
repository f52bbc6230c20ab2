// The last good plan, kept on the node (JSON with a SHA-256 checksum, written atomically), so an agent that
// restarts while the API server is unreachable still enforces it. A corrupt or truncated copy is ignored.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planSchema, type NodeIsolationPlan } from '../../api/plan.ts';

const fileName = 'last-plan.json';

interface Envelope {
  readonly sha256: string;
  readonly plan: unknown;
}

function digest(plan: unknown): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}

export type CachedPlanResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly plan: NodeIsolationPlan }
  | { readonly kind: 'corrupt'; readonly reason: string };

export class PlanCache {
  readonly path: string;
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = stateDir;
    this.path = join(stateDir, fileName);
  }

  async save(plan: NodeIsolationPlan): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temporary = `${this.path}.tmp-${process.pid}`;
    const envelope: Envelope = { sha256: digest(plan), plan };
    await writeFile(temporary, JSON.stringify(envelope), { mode: 0o600 });
    await rename(temporary, this.path);
  }

  async clear(): Promise<void> {
    await writeFile(this.path, '', { mode: 0o600 }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }

  async load(nodeName: string): Promise<CachedPlanResult> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
      throw error;
    }
    if (text.trim() === '') return { kind: 'none' };
    return parseEnvelope(text, nodeName);
  }
}

function parseEnvelope(text: string, nodeName: string): CachedPlanResult {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch {
    return { kind: 'corrupt', reason: 'not valid JSON (truncated?)' };
  }
  if (typeof envelope.sha256 !== 'string' || digest(envelope.plan) !== envelope.sha256) {
    return { kind: 'corrupt', reason: 'checksum mismatch' };
  }
  const parsed = planSchema.safeParse(envelope.plan);
  if (!parsed.success) return { kind: 'corrupt', reason: 'not a valid NodeIsolationPlan' };
  if (parsed.data.spec.nodeName !== nodeName) {
    return { kind: 'corrupt', reason: `plan is for node ${parsed.data.spec.nodeName}, not ${nodeName}` };
  }
  return { kind: 'ok', plan: parsed.data };
}
