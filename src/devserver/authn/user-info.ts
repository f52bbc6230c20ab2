// Who sent a request, as a real API server's authenticators describe a user (authentication.k8s.io/v1 UserInfo).
import type { JsonObject } from '../json.ts';

export interface UserInfo {
  readonly username: string;
  readonly uid: string;
  readonly groups: readonly string[];
  /** Authenticator-provided facts, e.g. authentication.kubernetes.io/node-name of a pod-bound token. */
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/**
 * A request without credentials. The dev server listens on loopback only and every existing client of it (the
 * demo, kubectl with its kubeconfig, the tests) sends none, so such a request is the cluster administrator, like
 * kube-apiserver's own loopback client. Only bearer tokens this server issued name anybody else.
 */
export const loopbackAdmin: UserInfo = {
  username: 'system:admin',
  uid: '',
  groups: ['system:masters', 'system:authenticated'],
  extra: {},
};

/** The UserInfo object of SelfSubjectReview status and of an admission request (empty uid and extra left out). */
export function userInfoJson(user: UserInfo): JsonObject {
  const json: JsonObject = { username: user.username, groups: [...user.groups] };
  if (user.uid !== '') json.uid = user.uid;
  const extra = Object.entries(user.extra);
  if (extra.length > 0) json.extra = Object.fromEntries(extra.map(([key, values]) => [key, [...values]]));
  return json;
}
