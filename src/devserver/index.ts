// nodeqos dev server: an in-process HTTP server speaking enough of the Kubernetes API for nodeqos's
// controller, agent, tests and `nodeqos demo` to run against @kubernetes/client-node without a cluster.
//
// It is NOT a kube-apiserver. It authenticates only the ServiceAccount tokens it issues (no credentials is the
// administrator), evaluates ValidatingAdmissionPolicies, and has no authorization, admission webhooks, garbage
// collection, API priority and fairness, protobuf or version conversion. It serves core/v1 nodes, pods,
// namespaces, events, serviceaccounts; events.k8s.io/v1 events; coordination.k8s.io/v1 leases;
// policy/v1 poddisruptionbudgets; authentication.k8s.io/v1 selfsubjectreviews; admissionregistration.k8s.io/v1
// validating admission policies and bindings; and the CRDs it is given (by default crds/*.yaml). Built-in types are not schema-validated. See docs/devserver.md
// for what it implements and where it knowingly differs from a real API server.
export { startDevServer, type DevServer, type DevServerFaults, type DevServerOptions } from './server.ts';
export { ApiError, type StatusCause } from './api-error.ts';
export type { FailureRule, FailureStatus, RequestInfo, RequestMatcher, Verb } from './faults.ts';
export type { JsonObject, JsonValue } from './json.ts';
export type { ResourceType } from './resource-types.ts';
export type { ObjectStore, StoredEvent } from './store.ts';
export { loadCrdDirectory, parseCrd, type CustomResourceDefinition } from './crds.ts';
