// In-memory object storage: objects per resource keyed by (namespace, name), one global resourceVersion
// counter, server-owned metadata (uid, creationTimestamp, generation), and a bounded event history for watches.
import { randomUUID } from 'node:crypto';
import { alreadyExists, conflict, notFound, resourceNamesOf, staleResourceVersion } from './api-error.ts';
import { cloneJson, deepFreeze, isJsonObject, jsonEqual, type JsonObject, removeKey } from './json.ts';

export type StoredEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly type: StoredEventType;
  /** Resource key (`pods`, `nodeqospolicies.nodeqos.io`). */
  readonly resource: string;
  readonly resourceVersion: number;
  /** Frozen: the object after the change (for DELETED: the last state, stamped with the deletion RV). */
  readonly object: Readonly<JsonObject>;
  /** Frozen: the object before the change (MODIFIED, DELETED). */
  readonly previous: Readonly<JsonObject> | undefined;
}

export type StoreListener = (event: StoredEvent) => void;

export interface StoreOptions {
  /** Events kept for watches that resume from a resourceVersion; older RVs get 410. */
  readonly historyLimit: number;
  readonly clock?: () => Date;
}

export interface WriteOptions {
  /** The resourceVersion the caller based its change on; a mismatch is a 409 Conflict. */
  readonly precondition?: string | undefined;
}

export interface DeleteResult {
  readonly object: JsonObject;
  /** True when finalizers keep the object (it now carries deletionTimestamp). */
  readonly pending: boolean;
}

export function metadataOf(object: Readonly<JsonObject>): JsonObject {
  const metadata = object.metadata;
  if (!isJsonObject(metadata)) throw new Error('object has no metadata');
  return metadata;
}

function stringField(object: Readonly<JsonObject>, field: string): string {
  const value = metadataOf(object)[field];
  return typeof value === 'string' ? value : '';
}

export function nameOf(object: Readonly<JsonObject>): string {
  return stringField(object, 'name');
}

export function namespaceOf(object: Readonly<JsonObject>): string {
  return stringField(object, 'namespace');
}

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** An object's position in list order, as continue tokens carry it. */
export function positionKey(object: Readonly<JsonObject>): string {
  return objectKey(namespaceOf(object), nameOf(object));
}

/** Generation counts changes outside metadata and status. */
function specChanged(before: Readonly<JsonObject>, after: Readonly<JsonObject>): boolean {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const skipped of ['metadata', 'status', 'apiVersion', 'kind']) keys.delete(skipped);
  return [...keys].some(key => !jsonEqual(before[key], after[key]));
}

/** Compares two objects ignoring what every write restamps (resourceVersion, managedFields times). */
function sameContent(before: Readonly<JsonObject>, after: Readonly<JsonObject>): boolean {
  const strip = (object: Readonly<JsonObject>): JsonObject => {
    const copy = cloneJson(object as JsonObject);
    const metadata = metadataOf(copy);
    delete metadata.resourceVersion;
    const managed = metadata.managedFields;
    if (Array.isArray(managed)) {
      metadata.managedFields = managed.map(entry => (isJsonObject(entry) ? { ...entry, time: null } : entry));
    }
    return copy;
  };
  return jsonEqual(strip(before), strip(after));
}

function hasFinalizers(object: Readonly<JsonObject>): boolean {
  const finalizers = metadataOf(object).finalizers;
  return Array.isArray(finalizers) && finalizers.length > 0;
}

const metadataOrder = [
  'name',
  'generateName',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** Puts metadata fields in the order a real server prints them (cosmetic, for people reading objects). */
function orderMetadata(object: JsonObject): void {
  const metadata = metadataOf(object);
  const known = metadataOrder.filter(key => metadata[key] !== undefined);
  const rest = Object.keys(metadata).filter(key => !metadataOrder.includes(key));
  object.metadata = Object.fromEntries([...known, ...rest].map(key => [key, metadata[key] ?? null]));
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** First index in the sorted array whose key is > `key` (or >= with `inclusive`). */
function bisect(sorted: readonly string[], key: string, inclusive: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const probe = sorted[mid] ?? '';
    if (probe < key || (!inclusive && probe === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The objects of one resource: a map by `namespace/name`, plus the keys kept sorted so a paged list starts at
 * its continue position by binary search and costs O(page), not O(all objects). Namespace names never contain
 * `/`, so one namespace's keys are the contiguous range [`ns/`, `ns0`).
 */
class Bucket {
  readonly objects = new Map<string, Readonly<JsonObject>>();
  private readonly keys: string[] = [];

  set(key: string, object: Readonly<JsonObject>): void {
    if (!this.objects.has(key)) this.keys.splice(bisect(this.keys, key, true), 0, key);
    this.objects.set(key, object);
  }

  delete(key: string): void {
    if (!this.objects.delete(key)) return;
    const at = bisect(this.keys, key, true);
    if (this.keys[at] === key) this.keys.splice(at, 1);
  }

  /** Index range of the keys in one namespace (all keys when undefined). */
  private range(namespace: string | undefined): [number, number] {
    if (namespace === undefined) return [0, this.keys.length];
    return [bisect(this.keys, `${namespace}/`, true), bisect(this.keys, `${namespace}0`, true)];
  }

  /** Frozen objects in key order, starting after `afterKey`; the caller stops iterating when its page is full. */
  *scan(namespace: string | undefined, afterKey: string | undefined): Generator<Readonly<JsonObject>> {
    const [start, end] = this.range(namespace);
    const from = afterKey === undefined ? start : Math.max(start, bisect(this.keys, afterKey, false));
    for (let i = from; i < end; i += 1) {
      const object = this.objects.get(this.keys[i] ?? '');
      if (object !== undefined) yield object;
    }
  }

  /** How many keys of the namespace range come after `afterKey`. */
  countAfter(namespace: string | undefined, afterKey: string): number {
    const [start, end] = this.range(namespace);
    return end - Math.max(start, bisect(this.keys, afterKey, false));
  }
}

export class ObjectStore {
  private revision = 0;
  private readonly buckets = new Map<string, Bucket>();
  private history: StoredEvent[] = [];
  private compactedRevision = 0;
  private readonly listeners = new Set<StoreListener>();
  private readonly historyLimit: number;
  private readonly clock: () => Date;

  constructor(options: StoreOptions) {
    if (!Number.isInteger(options.historyLimit) || options.historyLimit < 1) {
      throw new Error(`historyLimit must be a positive integer, got ${options.historyLimit}`);
    }
    this.historyLimit = options.historyLimit;
    this.clock = options.clock ?? ((): Date => new Date());
  }

  /** The latest resourceVersion, as the string clients see. */
  resourceVersion(): string {
    return String(this.revision);
  }

  currentRevision(): number {
    return this.revision;
  }

  /** Watches may resume from any RV >= this; older ones lost events to the history window. */
  oldestResumableRevision(): number {
    return this.compactedRevision;
  }

  get(resource: string, namespace: string, name: string): JsonObject | undefined {
    const stored = this.bucket(resource).objects.get(objectKey(namespace, name));
    return stored === undefined ? undefined : cloneJson(stored as JsonObject);
  }

  /** Objects of a resource (optionally one namespace), sorted by namespace then name. */
  list(resource: string, namespace?: string): JsonObject[] {
    return [...this.bucket(resource).scan(namespace, undefined)].map(object =>
      cloneJson(object as JsonObject),
    );
  }

  /**
   * Frozen objects (do not modify) of a resource in list order (namespace, then name), starting after the
   * position `afterKey` (from `positionKey`). Lazy, so a page of a large list costs O(page).
   */
  scan(resource: string, namespace: string | undefined, afterKey?: string): Iterable<Readonly<JsonObject>> {
    return this.bucket(resource).scan(namespace, afterKey);
  }

  /** Objects after list position `afterKey`, without reading them (remainingItemCount of a page). */
  countAfter(resource: string, namespace: string | undefined, afterKey: string): number {
    return this.bucket(resource).countAfter(namespace, afterKey);
  }

  /** Stores a new object, stamping uid, creationTimestamp, generation 1 and a resourceVersion. */
  create(resource: string, object: JsonObject): JsonObject {
    const name = nameOf(object);
    if (name === '') throw new Error(`store.create(${resource}): metadata.name is required`);
    const key = objectKey(namespaceOf(object), name);
    const bucket = this.bucket(resource);
    if (bucket.objects.has(key)) throw alreadyExists(resourceNamesOf(resource), name);
    const created = cloneJson(object);
    const metadata = metadataOf(created);
    metadata.uid = randomUUID();
    metadata.creationTimestamp = timestamp(this.clock());
    metadata.generation = 1;
    delete metadata.deletionTimestamp;
    return this.commit(resource, key, created, undefined);
  }

  /**
   * Replaces an existing object. Server-owned metadata comes from the stored copy; generation is bumped
   * when anything outside metadata and status changed. An identical object is a no-op (same RV, no event).
   */
  update(resource: string, object: JsonObject, options: WriteOptions = {}): JsonObject {
    const name = nameOf(object);
    const key = objectKey(namespaceOf(object), name);
    const current = this.bucket(resource).objects.get(key);
    if (current === undefined) throw notFound(resourceNamesOf(resource), name);
    const currentRv = stringField(current, 'resourceVersion');
    if (options.precondition !== undefined && options.precondition !== currentRv) {
      throw conflict(resourceNamesOf(resource), name, staleResourceVersion);
    }
    const next = cloneJson(object);
    const metadata = metadataOf(next);
    const before = metadataOf(current);
    for (const owned of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (before[owned] === undefined) removeKey(metadata, owned);
      else metadata[owned] = before[owned];
    }
    const generation = typeof before.generation === 'number' ? before.generation : 1;
    metadata.generation = specChanged(current, next) ? generation + 1 : generation;
    metadata.resourceVersion = currentRv;
    if (sameContent(current, next)) return cloneJson(current as JsonObject);
    if (before.deletionTimestamp !== undefined && !hasFinalizers(next)) {
      return this.removeStored(resource, key, next, current);
    }
    return this.commit(resource, key, next, current);
  }

  /** Deletes an object; with finalizers it is only marked (deletionTimestamp) until they are removed. */
  delete(resource: string, namespace: string, name: string, options: WriteOptions = {}): DeleteResult {
    const key = objectKey(namespace, name);
    const current = this.bucket(resource).objects.get(key);
    if (current === undefined) throw notFound(resourceNamesOf(resource), name);
    if (
      options.precondition !== undefined &&
      options.precondition !== stringField(current, 'resourceVersion')
    ) {
      throw conflict(resourceNamesOf(resource), name, staleResourceVersion);
    }
    if (!hasFinalizers(current)) {
      return {
        object: this.removeStored(resource, key, cloneJson(current as JsonObject), current),
        pending: false,
      };
    }
    if (metadataOf(current).deletionTimestamp !== undefined) {
      return { object: cloneJson(current as JsonObject), pending: true };
    }
    const marked = cloneJson(current as JsonObject);
    const metadata = metadataOf(marked);
    metadata.deletionTimestamp = timestamp(this.clock());
    metadata.deletionGracePeriodSeconds = 0;
    metadata.generation = (typeof metadata.generation === 'number' ? metadata.generation : 1) + 1;
    return { object: this.commit(resource, key, marked, current), pending: true };
  }

  /** Events after `revision`, oldest first; undefined when the window no longer covers them (410). */
  eventsAfter(revision: number): StoredEvent[] | undefined {
    if (revision < this.compactedRevision) return undefined;
    return this.history.filter(event => event.resourceVersion > revision);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops the whole event history (as after an API server restart): watches from older RVs get 410. */
  forgetHistory(): void {
    this.history = [];
    this.compactedRevision = this.revision;
  }

  private bucket(resource: string): Bucket {
    let bucket = this.buckets.get(resource);
    if (bucket === undefined) {
      bucket = new Bucket();
      this.buckets.set(resource, bucket);
    }
    return bucket;
  }

  private nextRevision(object: JsonObject): number {
    this.revision += 1;
    metadataOf(object).resourceVersion = String(this.revision);
    orderMetadata(object);
    return this.revision;
  }

  private commit(
    resource: string,
    key: string,
    object: JsonObject,
    previous: Readonly<JsonObject> | undefined,
  ): JsonObject {
    const revision = this.nextRevision(object);
    const frozen = deepFreeze(object);
    this.bucket(resource).set(key, frozen);
    this.record({
      type: previous === undefined ? 'ADDED' : 'MODIFIED',
      resource,
      resourceVersion: revision,
      object: frozen,
      previous,
    });
    return cloneJson(frozen);
  }

  private removeStored(
    resource: string,
    key: string,
    last: JsonObject,
    previous: Readonly<JsonObject>,
  ): JsonObject {
    const revision = this.nextRevision(last);
    const frozen = deepFreeze(last);
    this.bucket(resource).delete(key);
    this.record({ type: 'DELETED', resource, resourceVersion: revision, object: frozen, previous });
    return cloneJson(frozen);
  }

  private record(event: StoredEvent): void {
    this.history.push(event);
    while (this.history.length > this.historyLimit) {
      const evicted = this.history.shift();
      if (evicted !== undefined) this.compactedRevision = evicted.resourceVersion;
    }
    for (const listener of this.listeners) listener(event);
  }
}
