// Routes one parsed request to its handler by HTTP method, target and query.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, methodNotAllowed, routeNotFound, unsupportedMediaType } from './api-error.ts';
import { openApiV2Document, openApiV3Document, openApiV3Root } from './openapi/documents.ts';
import {
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  coreApiVersions,
  versionInfo,
} from './discovery.ts';
import type { RequestInfo, Verb } from './faults.ts';
import type { UserInfo } from './authn/user-info.ts';
import { handleEviction } from './handlers/eviction.ts';
import { handleSelfSubjectReview } from './handlers/self-subject-review.ts';
import { handleTokenRequest } from './handlers/token-request.ts';
import { handlePatch } from './handlers/patch.ts';
import { handleGet, handleList, selectionOf, type ReadFormat } from './handlers/read.ts';
import { tableRequest } from './table.ts';
import { handleCreate, handleDelete, handleDeleteCollection, handleUpdate } from './handlers/write.ts';
import { mediaType, parseJsonBody, parseYamlBody, readBody, type Reply } from './http-io.ts';
import type { JsonValue } from './json.ts';
import type { ResourceRegistry } from './resource-registry.ts';
import type { ResourceTarget, Route } from './routes.ts';
import { isWatchRequest, parseWatchParams, type WatchHub } from './watch.ts';
import { writeParams, type ServerContext } from './write-pipeline.ts';

export interface DispatchContext extends ServerContext {
  readonly registry: ResourceRegistry;
  readonly watches: WatchHub;
  readonly serverAddress: string;
  readonly bookmarkIntervalMs: number;
  readonly takeWatchExpiry: () => boolean;
}

function methodVerb(method: string, item: boolean, query: URLSearchParams): Verb | undefined {
  switch (method) {
    case 'GET':
      return item ? 'get' : isWatchRequest(query) ? 'watch' : 'list';
    case 'POST':
      return item ? undefined : 'create';
    case 'PUT':
      return item ? 'update' : undefined;
    case 'PATCH':
      return item ? 'patch' : undefined;
    case 'DELETE':
      return item ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

/** The verb of a resource request; methods a target does not allow are a 405. */
function resourceVerb(method: string, target: ResourceTarget, query: URLSearchParams): Verb {
  // pods/eviction and serviceaccounts/token take one verb: create (POST on the item's subresource).
  if (target.subresource === 'eviction' || target.subresource === 'token') {
    if (method === 'POST') return 'create';
    throw methodNotAllowed(method, `${target.type.key}/${target.subresource}`);
  }
  // selfsubjectreviews: POST on the collection, nothing to read back.
  if (target.type.virtual) {
    if (method === 'POST' && target.name === undefined) return 'create';
    throw methodNotAllowed(method, target.type.key);
  }
  const verb = methodVerb(method, target.name !== undefined, query);
  const onSubresource = target.subresource !== undefined;
  if (verb === undefined || (onSubresource && (verb === 'delete' || verb === 'create'))) {
    const what = onSubresource ? `${target.type.key}/${target.subresource}` : target.type.key;
    throw methodNotAllowed(method, what);
  }
  return verb;
}

export function requestInfo(method: string, url: URL, route: Route): RequestInfo {
  const base = { method, path: url.pathname, query: url.searchParams };
  if (route.kind !== 'resource') {
    const verb: Verb = route.kind === 'health' ? 'health' : 'discovery';
    return {
      ...base,
      verb,
      resource: undefined,
      namespace: undefined,
      name: undefined,
      subresource: undefined,
    };
  }
  const { target } = route;
  return {
    ...base,
    verb: resourceVerb(method, target, url.searchParams),
    resource: target.type.key,
    namespace: target.namespace,
    name: target.name,
    subresource: target.subresource,
  };
}

function readOnly(method: string, path: string, body: Reply['body']): Reply {
  if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method, path);
  return { status: 200, body };
}

function discovery(ctx: DispatchContext, route: Route, info: RequestInfo): Reply | undefined {
  switch (route.kind) {
    case 'health':
      return readOnly(info.method, info.path, 'ok');
    case 'version':
      return readOnly(info.method, info.path, versionInfo());
    case 'coreVersions':
      return readOnly(info.method, info.path, coreApiVersions(ctx.serverAddress));
    case 'groups':
      return readOnly(info.method, info.path, apiGroupList(ctx.registry));
    case 'group':
      return readOnly(info.method, info.path, apiGroupDocument(ctx.registry, route.group));
    case 'resources':
      return readOnly(info.method, info.path, apiResourceList(ctx.registry, route.group, route.version));
    case 'openapiV2':
      return readOnly(info.method, info.path, openApiV2Document(ctx.registry));
    case 'openapiV3Root':
      return readOnly(info.method, info.path, openApiV3Root(ctx.registry));
    case 'openapiV3': {
      const document = openApiV3Document(ctx.registry, route.group, route.version);
      if (document === undefined) throw routeNotFound();
      return readOnly(info.method, info.path, document);
    }
    case 'resource':
      return undefined;
  }
}

/** POST/PUT bodies: JSON, or YAML (application/yaml) as a real server also accepts. */
async function objectBody(req: IncomingMessage): Promise<JsonValue> {
  const type = mediaType(req);
  const body = await readBody(req);
  if (type === '' || type === 'application/json' || type === '*/*') return parseJsonBody(body);
  if (type === 'application/yaml') return parseYamlBody(body);
  throw unsupportedMediaType(['application/json', 'application/yaml']);
}

async function optionalBody(req: IncomingMessage): Promise<JsonValue | undefined> {
  const body = await readBody(req);
  return body.toString('utf8').trim() === '' ? undefined : parseJsonBody(body);
}

function watch(ctx: DispatchContext, target: ResourceTarget, url: URL, res: ServerResponse): void {
  const params = parseWatchParams(url.searchParams);
  const selection = selectionOf(target, url.searchParams);
  ctx.watches.open(res, {
    store: ctx.store,
    target,
    selection,
    params,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    forceExpired: ctx.takeWatchExpiry(),
  });
}

async function write(
  ctx: DispatchContext,
  target: ResourceTarget,
  verb: Verb,
  http: RequestHttp,
): Promise<Reply> {
  const { req, user } = http;
  const query = new URL(`http://localhost${req.url ?? '/'}`).searchParams;
  const params = writeParams(query, req, user);
  switch (verb) {
    case 'create':
      if (target.type.virtual) return handleSelfSubjectReview(ctx, user);
      if (target.subresource === 'token')
        return handleTokenRequest(ctx, target, await objectBody(req), params);
      if (target.subresource === 'eviction')
        return handleEviction(ctx, target, await objectBody(req), params);
      return handleCreate(ctx, target, await objectBody(req), params);
    case 'update':
      return handleUpdate(ctx, target, await objectBody(req), params);
    case 'patch':
      return handlePatch(ctx, target, { contentType: mediaType(req), body: await readBody(req) }, params);
    case 'delete':
      return handleDelete(ctx, target, await optionalBody(req), params);
    case 'deletecollection':
      return handleDeleteCollection(ctx, target, query, params);
    default:
      throw badRequest(`unsupported verb ${verb}`);
  }
}

function readFormat(ctx: DispatchContext, req: IncomingMessage, url: URL): ReadFormat {
  return { table: tableRequest(req, url.searchParams), now: ctx.now() };
}

/** One request's connection and its authenticated user. */
export interface RequestHttp {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly user: UserInfo;
}

/** Handles a request; undefined means the handler streams the response itself (watch). */
export async function dispatch(
  ctx: DispatchContext,
  route: Route,
  info: RequestInfo,
  http: RequestHttp,
): Promise<Reply | undefined> {
  const fixed = discovery(ctx, route, info);
  if (fixed !== undefined || route.kind !== 'resource') return fixed;
  const { target } = route;
  const url = new URL(`http://localhost${http.req.url ?? '/'}`);
  switch (info.verb) {
    case 'get':
      return handleGet(ctx.store, target, readFormat(ctx, http.req, url));
    case 'list':
      return handleList(ctx.store, target, url.searchParams, readFormat(ctx, http.req, url));
    case 'watch':
      watch(ctx, target, url, http.res);
      return undefined;
    default:
      return write(ctx, target, info.verb, http);
  }
}
