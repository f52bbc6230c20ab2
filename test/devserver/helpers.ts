// Shared fixtures for the dev server tests: a policy factory and a way to read ApiException failures.
import {
  ApiException,
  loadYaml,
  type CoreV1Event,
  type EventsV1Event,
  type KubernetesObject,
  type V1Lease,
  type V1Namespace,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { JsonObject } from '../../src/devserver/index.ts';

export const policyApi = { group: 'nodeqos.io', version: 'v1alpha1', plural: 'nodeqospolicies' } as const;
export const planApi = { group: 'nodeqos.io', version: 'v1alpha1', plural: 'nodeisolationplans' } as const;

export function policy(name: string, spec: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeQoSPolicy',
    metadata: { name },
    spec: {
      priority: 1,
      nodeSelector: { matchLabels: { a: 'b' } },
      cpuSuppress: {
        curve: [
          { pressure: 40, ratio: 1 },
          { pressure: 90, ratio: 0.2 },
        ],
      },
      ...spec,
    },
  };
}

export function pod(
  namespace: string,
  name: string,
  extra: { labels?: Record<string, string>; nodeName?: string } = {},
): V1Pod {
  return toPod({
    metadata: { name, namespace, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      ...(extra.nodeName !== undefined ? { nodeName: extra.nodeName } : {}),
      containers: [{ name: 'app', image: 'busybox' }],
    },
  });
}

export interface Failure {
  readonly code: number;
  readonly status: JsonObject;
  readonly headers: Record<string, string>;
}

/** Awaits a client-node call that must fail with an ApiException and returns its code and Status body. */
export async function failure(call: Promise<unknown>): Promise<Failure> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiException);
  const apiError = error as ApiException<unknown>;
  const body = typeof apiError.body === 'string' ? (JSON.parse(apiError.body) as JsonObject) : {};
  return { code: apiError.code, status: body, headers: apiError.headers };
}

/** Resolves once `predicate` holds, polling every 10 ms, or rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

// client-node's model types are classes. Request bodies are built from plain JSON with client-node's own
// deserializer (loadYaml; JSON is YAML), so they are genuine instances of those classes.
function typed(apiVersion: string, kind: string, json: JsonObject): string {
  return JSON.stringify({ apiVersion, kind, ...json });
}

export const toPod = (json: JsonObject): V1Pod => loadYaml<V1Pod>(typed('v1', 'Pod', json));
export const toNode = (json: JsonObject): V1Node => loadYaml<V1Node>(typed('v1', 'Node', json));
export const toNamespace = (json: JsonObject): V1Namespace =>
  loadYaml<V1Namespace>(typed('v1', 'Namespace', json));
export const toLease = (json: JsonObject): V1Lease =>
  loadYaml<V1Lease>(typed('coordination.k8s.io/v1', 'Lease', json));
export const toCoreEvent = (json: JsonObject): CoreV1Event =>
  loadYaml<CoreV1Event>(typed('v1', 'Event', json));
/** Any kind, custom resources included (client-node's generic KubernetesObject model). */
export const toObject = (json: JsonObject): KubernetesObject =>
  loadYaml<KubernetesObject>(JSON.stringify(json));
export const toEventsEvent = (json: JsonObject): EventsV1Event =>
  loadYaml<EventsV1Event>(typed('events.k8s.io/v1', 'Event', json));
