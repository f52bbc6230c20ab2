// InformerSources for the resources nodeqos watches, on the raw API.
import { apiGroup, apiVersionName } from '../api/group.ts';
import type { KubeTransport, Query } from './transport.ts';
import type { InformerSource, ListPage } from './informer.ts';
import {
  transformNode,
  transformPlan,
  transformPlanKeepingInvalid,
  transformPod,
  transformPolicy,
  type CachedNode,
  type CachedPlan,
  type CachedPod,
  type CachedPolicy,
  type InvalidPlan,
} from './transforms.ts';

export const policiesPath = `/apis/${apiGroup}/${apiVersionName}/nodeqospolicies`;
export const plansPath = `/apis/${apiGroup}/${apiVersionName}/nodeisolationplans`;

const pageSize = 500;

interface ListBody {
  items?: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/**
 * Lists every page (limit/continue), so a 150k-pod list is never one response. With a transform, each page is
 * transformed as it arrives and its raw objects are dropped before the next page is fetched: the peak holds one
 * raw page, not the whole raw list next to the transformed cache.
 */
export async function listAll(
  http: KubeTransport,
  path: string,
  query: Query,
  transform?: (raw: unknown) => unknown,
): Promise<ListPage> {
  const items: unknown[] = [];
  const rejected: unknown[] = [];
  let continueToken: string | undefined;
  let resourceVersion = '';
  do {
    const body = await http.request<ListBody>('GET', path, {
      query: { ...query, limit: pageSize, continue: continueToken },
    });
    for (const item of body.items ?? []) {
      const object = transform === undefined ? item : transform(item);
      if (object !== undefined) items.push(object);
      else rejected.push(item);
    }
    resourceVersion = body.metadata?.resourceVersion ?? resourceVersion;
    const next = body.metadata?.continue;
    continueToken = next !== undefined && next !== '' ? next : undefined;
  } while (continueToken !== undefined);
  return { items, resourceVersion, transformed: transform !== undefined, rejected };
}

interface Endpoint {
  readonly resource: string;
  readonly path: string;
  readonly query: Query;
}

function source<T>(
  http: KubeTransport,
  { resource, path, query }: Endpoint,
  rest: Pick<InformerSource<T>, 'transform' | 'key' | 'rawKey' | 'resourceVersionOf'>,
): InformerSource<T> {
  return {
    resource,
    list: () => listAll(http, path, query, rest.transform),
    watch: (resourceVersion, onEvent, onDone) =>
      http.watch(path, { ...query, resourceVersion, allowWatchBookmarks: true }, onEvent, onDone),
    ...rest,
  };
}

const byName = (o: { metadata: { name: string } }): string => o.metadata.name;

function rawMeta(raw: unknown): { name?: unknown; namespace?: unknown } | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const metadata = (raw as { metadata?: unknown }).metadata;
  return typeof metadata === 'object' && metadata !== null ? metadata : undefined;
}

/** byName for an object the transform rejected. */
export function rawName(raw: unknown): string | undefined {
  const name = rawMeta(raw)?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** The pods' namespace/name key for an object the transform rejected. */
export function rawNamespacedName(raw: unknown): string | undefined {
  const meta = rawMeta(raw);
  const name = rawName(raw);
  return name !== undefined && typeof meta?.namespace === 'string' ? `${meta.namespace}/${name}` : undefined;
}
const rvOf = (o: { metadata: { resourceVersion?: string } }): string | undefined =>
  o.metadata.resourceVersion;

/** Pods already bound to a node (optionally one node). */
export function podSource(http: KubeTransport, nodeName?: string): InformerSource<CachedPod> {
  const fieldSelector = nodeName === undefined ? 'spec.nodeName!=' : `spec.nodeName=${nodeName}`;
  return source<CachedPod>(
    http,
    { resource: 'pods', path: '/api/v1/pods', query: { fieldSelector } },
    {
      transform: transformPod,
      key: p => `${p.metadata.namespace}/${p.metadata.name}`,
      rawKey: rawNamespacedName,
      resourceVersionOf: rvOf,
    },
  );
}

export function nodeSource(http: KubeTransport): InformerSource<CachedNode> {
  return source<CachedNode>(
    http,
    { resource: 'nodes', path: '/api/v1/nodes', query: {} },
    { transform: transformNode, key: byName, rawKey: rawName, resourceVersionOf: rvOf },
  );
}

export function policySource(http: KubeTransport): InformerSource<CachedPolicy> {
  return source<CachedPolicy>(
    http,
    { resource: 'nodeqospolicies', path: policiesPath, query: {} },
    {
      transform: transformPolicy,
      key: p => p.name,
      rawKey: rawName,
      resourceVersionOf: p => p.resourceVersion,
    },
  );
}

/** Plans (optionally only one node's, by field selector). */
export function planSource(http: KubeTransport, nodeName?: string): InformerSource<CachedPlan> {
  const query = nodeName === undefined ? {} : { fieldSelector: `metadata.name=${nodeName}` };
  return source<CachedPlan>(
    http,
    { resource: 'nodeisolationplans', path: plansPath, query: query },
    {
      transform: transformPlan,
      key: byName,
      rawKey: rawName,
      resourceVersionOf: rvOf,
    },
  );
}

/** The agent's own plan, kept even when this build's schema rejects it, so the agent refuses it visibly. */
export function agentPlanSource(
  http: KubeTransport,
  nodeName: string,
): InformerSource<CachedPlan | InvalidPlan> {
  return source<CachedPlan | InvalidPlan>(
    http,
    {
      resource: 'nodeisolationplans',
      path: plansPath,
      query: { fieldSelector: `metadata.name=${nodeName}` },
    },
    { transform: transformPlanKeepingInvalid, key: byName, rawKey: rawName, resourceVersionOf: rvOf },
  );
}
