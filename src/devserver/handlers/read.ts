// get and list (label and field selectors, limit/continue pagination).
import { badRequest, notFound } from '../api-error.ts';
import type { Reply } from '../http-io.ts';
import type { JsonObject } from '../json.ts';
import { apiVersionOf } from '../resource-types.ts';
import type { ResourceTarget } from '../routes.ts';
import { parseFieldSelector, parseLabelSelector, selects, type Selection } from '../selectors.ts';
import { nameOf, namespaceOf, type ObjectStore } from '../store.ts';
import { presentListItem, presentObject } from './present.ts';

export function handleGet(store: ObjectStore, target: ResourceTarget): Reply {
  const name = target.name ?? '';
  const object = store.get(target.type.key, target.namespace ?? '', name);
  if (object === undefined) throw notFound(target.type, name);
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
  readonly remaining: number;
}

function positionKey(object: Readonly<JsonObject>): string {
  return `${namespaceOf(object)}/${nameOf(object)}`;
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

function paginate(items: JsonObject[], query: URLSearchParams): Page {
  const limitText = query.get('limit');
  const limit = limitText === null ? 0 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0)
    throw badRequest(`limit: must be a non-negative integer, got "${limitText ?? ''}"`);
  const token = query.get('continue');
  const after = token === null || token === '' ? undefined : decodeContinue(token);
  const rest = after === undefined ? items : items.filter(item => positionKey(item) > after);
  if (limit === 0 || rest.length <= limit) return { items: rest, continueToken: undefined, remaining: 0 };
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  const next =
    last === undefined
      ? undefined
      : Buffer.from(JSON.stringify({ after: positionKey(last) })).toString('base64url');
  return { items: page, continueToken: next, remaining: rest.length - limit };
}

export function handleList(store: ObjectStore, target: ResourceTarget, query: URLSearchParams): Reply {
  const selection = selectionOf(target, query);
  const resourceVersion = store.resourceVersion();
  const matching = store.list(target.type.key, target.namespace).filter(object => selects(selection, object));
  const page = paginate(matching, query);
  const metadata: JsonObject = { resourceVersion };
  if (page.continueToken !== undefined) {
    metadata.continue = page.continueToken;
    metadata.remainingItemCount = page.remaining;
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
