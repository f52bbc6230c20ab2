// nodeqos dev server: an in-process HTTP server speaking enough of the Kubernetes API for nodeqos's
// controller, agent, tests and `nodeqos demo` to run against @kubernetes/client-node without a cluster.
//
// It is NOT a kube-apiserver. It has no authentication, authorization, admission webhooks, garbage
// collection, API priority and fairness, protobuf, table output or version conversion, and it serves only
// core/v1 nodes, pods, namespaces, events; events.k8s.io/v1 events; coordination.k8s.io/v1 leases; and the
// CRDs it is given (by default crds/*.yaml). Built-in types are not schema-validated. See docs/devserver.md
// for what it implements and where it knowingly differs from a real API server.
export { startDevServer, type DevServer, type DevServerFaults, type DevServerOptions } from './server.ts';
export { ApiError, type StatusCause } from './api-error.ts';
export type { FailureRule, FailureStatus, RequestInfo, RequestMatcher, Verb } from './faults.ts';
export type { JsonObject, JsonValue } from './json.ts';
export type { ResourceType } from './resource-types.ts';
export type { ObjectStore, StoredEvent } from './store.ts';
export { loadCrdDirectory, parseCrd, type CustomResourceDefinition } from './crds.ts';
