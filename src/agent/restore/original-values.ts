// What the agent found in each cgroup file before its first write there, per pod and container, so that a pod
// leaving the plan gets kubelet's values back. Persisted with durable-file.ts (checksummed, fsynced, renamed) before
// the cgroup writes it covers, so a crash never loses an original.
import type { Logger } from 'pino';
import { z } from 'zod';
import { kubeQoSClasses, type KubeQoS } from '../../api/group.ts';
import { assertAbsoluteRoot, resolveUnder } from '../cgroup/safe-path.ts';
import { quarantine, readDurable, writeDurable } from '../durable-file.ts';

/** Record key of the pod's own directory; container directories use their names. */
export const podDirKey = '';

const uidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const podRecordSchema = z.object({
  namespace: z.string().max(63),
  name: z.string().max(253),
  kubeQoS: z.enum(kubeQoSClasses),
  /** Made after the stored file was found unusable: its "originals" may be the agent's own earlier writes. */
  suspect: z.boolean().optional(),
  values: z.record(z.string().max(255), z.record(z.string().max(64), z.unknown())),
});

const payloadSchema = z.object({
  version: z.literal(1),
  records: z.record(z.string().regex(uidPattern), podRecordSchema),
  /** The kubepods besteffort directory's originals (cpu.idle and the weight it hides), by file. */
  tier: z.record(z.string().max(64), z.unknown()).optional(),
});

export type PodRecord = z.infer<typeof podRecordSchema>;
export interface PodIdentity {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly kubeQoS: KubeQoS;
}

const fileName = 'original-values.json';

export class OriginalValues {
  readonly path: string;
  /** Why the stored file could not be used (corrupt, bad checksum); the agent then restores kubelet defaults. */
  readonly loadProblem: string | undefined;
  readonly #records: Map<string, PodRecord>;
  #tier: Record<string, unknown>;
  #dirty = false;

  private constructor(
    path: string,
    records: Map<string, PodRecord>,
    loadProblem: string | undefined,
    tier: Record<string, unknown> = {},
  ) {
    this.path = path;
    this.#records = records;
    this.loadProblem = loadProblem;
    this.#tier = tier;
  }

  static async load(stateDir: string, logger: Logger): Promise<OriginalValues> {
    const path = resolveUnder(assertAbsoluteRoot(stateDir, 'state dir'), fileName);
    const read = await readDurable(path);
    if (read.kind === 'none') return new OriginalValues(path, new Map(), undefined);
    const payload = read.kind === 'ok' ? payloadSchema.safeParse(read.payload) : undefined;
    if (payload?.success === true)
      return new OriginalValues(
        path,
        new Map(Object.entries(payload.data.records)),
        undefined,
        payload.data.tier ?? {},
      );
    const reason =
      read.kind === 'corrupt'
        ? read.reason
        : `invalid records: ${payload?.error.message.slice(0, 200) ?? 'unreadable'}`;
    const aside = await quarantine(path);
    logger.error(
      { path, problem: reason, movedTo: aside },
      'original cgroup values unusable; restore falls back to kubelet defaults',
    );
    return new OriginalValues(path, new Map(), reason);
  }

  get(uid: string, dirKey: string, file: string): unknown {
    return this.#records.get(uid)?.values[dirKey]?.[file];
  }

  has(uid: string, dirKey: string, file: string): boolean {
    return this.get(uid, dirKey, file) !== undefined;
  }

  pod(uid: string): PodRecord | undefined {
    return this.#records.get(uid);
  }

  uids(): string[] {
    return [...this.#records.keys()];
  }

  /** Keeps the first value ever seen: later calls for the same pod, dir and file change nothing. */
  recordIfAbsent(pod: PodIdentity, dirKey: string, file: string, value: unknown): void {
    if (value === undefined || this.has(pod.uid, dirKey, file)) return;
    const record: PodRecord = this.#records.get(pod.uid) ?? {
      namespace: pod.namespace,
      name: pod.name,
      kubeQoS: pod.kubeQoS,
      ...(this.loadProblem === undefined ? {} : { suspect: true }),
      values: {},
    };
    record.values[dirKey] = { ...record.values[dirKey], [file]: value };
    this.#records.set(pod.uid, record);
    this.#dirty = true;
  }

  /** The besteffort tier directory's value of `file` before the agent first wrote it there, if it did. */
  tierOriginal(file: string): unknown {
    return this.#tier[file];
  }

  /** Keeps the first value ever seen for the tier directory's `file`. */
  recordTierIfAbsent(file: string, value: unknown): void {
    if (value === undefined || this.#tier[file] !== undefined) return;
    this.#tier = { ...this.#tier, [file]: value };
    this.#dirty = true;
  }

  /** The tier directory is back to its originals: forget them. */
  clearTier(): void {
    if (Object.keys(this.#tier).length === 0) return;
    this.#tier = {};
    this.#dirty = true;
  }

  deletePod(uid: string): void {
    if (this.#records.delete(uid)) this.#dirty = true;
  }

  /** Forgets containers whose cgroups are gone (restarted containers get new directories). */
  keepContainers(uid: string, containers: ReadonlySet<string>): void {
    const record = this.#records.get(uid);
    if (!record) return;
    for (const key of Object.keys(record.values)) {
      if (key !== podDirKey && !containers.has(key)) {
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- keys are container names from the record
        delete record.values[key];
        this.#dirty = true;
      }
    }
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    const tier = Object.keys(this.#tier).length === 0 ? {} : { tier: this.#tier };
    await writeDurable(this.path, {
      version: 1 as const,
      records: Object.fromEntries(this.#records),
      ...tier,
    });
    this.#dirty = false;
  }
}
