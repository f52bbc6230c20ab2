// get and list (label and field selectors, limit/continue pagination).
import { badRequest, notFound } from '../api-error.ts';
import type { Reply } from '../http-io.ts';
import type { JsonObject } from '../json.ts';
import { apiVersionOf } from '../resource-types.ts';
import type { ResourceTarget } from '../routes.ts';
import { parseFieldSelector, parseLabelSelector, selects, type Selection } from '../selectors.ts';
import { metadataOf, positionKey, type ObjectStore } from '../store.ts';
import { presentListItem, presentObject } from './present.ts';
import { toTable, type TableRequest } from '../table.ts';

/** How a read is answered: plain JSON, or a Table for `kubectl get` (negotiated from Accept). */
export interface ReadFormat {
  readonly table: TableRequest | undefined;
  readonly now: Date;
}

export function handleGet(store: ObjectStore, target: ResourceTarget, format?: ReadFormat): Reply {
  const name = target.name ?? '';
  const object = store.get(target.type.key, target.namespace ?? '', name);
  if (object === undefined) throw notFound(target.type, name);
  if (format?.table !== undefined) {
    const present = (o: Readonly<JsonObject>): JsonObject => presentObject(target.type, o);
    return {
      status: 200,
      body: toTable(format.table, target.type, [object], {
        metadata: { resourceVersion: metadataOf(object).resourceVersion ?? '' },
        now: format.now,
        present,
      }),
    };
  }
  return { status: 200, body: presentObject(target.type, object) };
}

export function selectionOf(target: ResourceTarget, query: URLSearchParams): Selection {
  const fieldLabels = ['metadata.name', 'metadata.namespace', ...target.type.extraFieldLabels];
  return {
    namespace: target.namespace,
    labels: parseLabelSelector(query.get('labelSelector')),
    fields: parseFieldSelector(query.get('fieldSelector'), fieldLabels),
  };
}

interface Page {
  readonly items: JsonObject[];
  readonly continueToken: string | undefined;
  /** Set only for an unfiltered list, as a real server counts remaining items only without selectors. */
  readonly remaining: number | undefined;
}

function decodeContinue(token: string): string {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof decoded === 'object' &&
      decoded !== null &&
      'after' in decoded &&
      typeof decoded.after === 'string'
    )
      return decoded.after;
  } catch {
    // fall through to the error below; the token's text is not useful to the caller
  }
  throw badRequest('continue: invalid continue token');
}

function parseLimit(query: URLSearchParams): number {
  const limitText = query.get('limit');
  const limit = limitText === null ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0)
    throw badRequest(`limit: must be a non-negative integer, got "${limitText ?? ''}"`);
  return limit;
}

function unfiltered(selection: Selection): boolean {
  return selection.labels.length === 0 && selection.fields.length === 0;
}

/**
 * One page: walks the store in list order from the continue position and stops as soon as the page is full
 * and one more match shows that a next page exists, so it reads O(page) objects (more only when a selector
 * skips many). Only the returned objects are copied.
 */
function readPage(
  store: ObjectStore,
  target: ResourceTarget,
  selection: Selection,
  query: URLSearchParams,
): Page {
  const limit = parseLimit(query);
  const token = query.get('continue');
  const after = token === null || token === '' ? undefined : decodeContinue(token);
  const items: Readonly<JsonObject>[] = [];
  let more = false;
  for (const object of store.scan(target.type.key, target.namespace, after)) {
    if (!selects(selection, object)) continue;
    if (limit > 0 && items.length === limit) {
      more = true;
      break;
    }
    items.push(object);
  }
  const last = items.at(-1);
  if (!more || last === undefined) return { items, continueToken: undefined, remaining: undefined };
  const position = positionKey(last);
  return {
    items,
    continueToken: Buffer.from(JSON.stringify({ after: position })).toString('base64url'),
    remaining: unfiltered(selection)
      ? store.countAfter(target.type.key, target.namespace, position)
      : undefined,
  };
}

export function handleList(
  store: ObjectStore,
  target: ResourceTarget,
  query: URLSearchParams,
  format?: ReadFormat,
): Reply {
  const selection = selectionOf(target, query);
  const resourceVersion = store.resourceVersion();
  const page = readPage(store, target, selection, query);
  const metadata: JsonObject = { resourceVersion };
  if (page.continueToken !== undefined) metadata.continue = page.continueToken;
  // Custom resource lists (unstructured on a real server) carry an empty continue on their last page.
  else if (!target.type.builtin) metadata.continue = '';
  if (page.remaining !== undefined) metadata.remainingItemCount = page.remaining;
  if (format?.table !== undefined) {
    const present = (o: Readonly<JsonObject>): JsonObject => presentObject(target.type, o);
    if (metadata.continue === '') delete metadata.continue; // a Table's ListMeta omits an empty continue
    return {
      status: 200,
      body: toTable(format.table, target.type, page.items, { metadata, now: format.now, present }),
    };
  }
  return {
    status: 200,
    body: {
      kind: target.type.listKind,
      apiVersion: apiVersionOf(target.type),
      metadata,
      items: page.items.map(item => presentListItem(target.type, item)),
    },
  };
}
