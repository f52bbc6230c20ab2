// ServiceAccount tokens: issued by TokenRequest (handlers/token-request.ts), presented as `Authorization: Bearer`.
// A real API server signs a JWT whose claims carry the user info; this one hands out a random opaque token and
// keeps the user info in memory, which gives clients the same contract: the token names a ServiceAccount, a token
// bound to a pod carries that pod's node (authentication.kubernetes.io/node-name, Kubernetes 1.30+), and it stops
// authenticating when it expires or when the ServiceAccount or the bound object is deleted or re-created (both
// with kube-apiserver's 60 s leeway), and never authenticates when issued for another audience.
import { randomBytes } from 'node:crypto';
import { unauthorized } from '../api-error.ts';
import { isJsonObject } from '../json.ts';
import type { ObjectStore } from '../store.ts';
import { loopbackAdmin, type UserInfo } from './user-info.ts';

/** The object a token is bound to, by the uid it had when the token was issued. */
export interface BoundObject {
  /** The store bucket: `pods` or `nodes`. */
  readonly resource: 'pods' | 'nodes';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** The audience of the API server itself; a token for another audience does not authenticate here. */
export const apiAudiences: readonly string[] = ['https://kubernetes.default.svc.cluster.local'];

/** Clock skew allowed past expiry, and how long a deleted (terminating) owner's tokens keep working. */
const leewayMs = 60_000;

export interface TokenClaims {
  readonly user: UserInfo;
  readonly audiences: readonly string[];
  readonly serviceAccount: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly bound: BoundObject | undefined;
  readonly expiresAt: Date;
}

/**
 * Whether the object still stands for the token: the same uid, and not deleted more than the leeway ago (an object
 * held by a finalizer is terminating, and kube-apiserver stops honouring its tokens 60 s after deletion starts).
 */
function stillThere(
  store: ObjectStore,
  where: { resource: string; namespace: string; name: string; uid: string },
  now: number,
): boolean {
  const metadata = store.get(where.resource, where.namespace, where.name)?.metadata;
  if (!isJsonObject(metadata) || metadata.uid !== where.uid) return false;
  const deleted = metadata.deletionTimestamp;
  return typeof deleted !== 'string' || now - Date.parse(deleted) <= leewayMs;
}

export class TokenAuthority {
  readonly #store: ObjectStore;
  readonly #now: () => Date;
  readonly #issued = new Map<string, TokenClaims>();

  constructor(store: ObjectStore, now: () => Date) {
    this.#store = store;
    this.#now = now;
  }

  issue(claims: TokenClaims): string {
    const token = `nodeqos-dev.${randomBytes(32).toString('base64url')}`;
    this.#issued.set(token, claims);
    return token;
  }

  /** The user of a request: the loopback administrator without credentials, else the token's user or a 401. */
  authenticate(authorization: string | undefined): UserInfo {
    if (authorization === undefined || authorization.trim() === '') return loopbackAdmin;
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) throw unauthorized();
    const token = match[1] ?? '';
    const claims = this.#issued.get(token);
    if (claims === undefined) throw unauthorized();
    if (!this.#stillValid(claims)) {
      this.#issued.delete(token);
      throw unauthorized();
    }
    return claims.user;
  }

  #stillValid(claims: TokenClaims): boolean {
    const now = this.#now().getTime();
    if (now > claims.expiresAt.getTime() + leewayMs) return false;
    if (!claims.audiences.some(audience => apiAudiences.includes(audience))) return false;
    if (!stillThere(this.#store, { resource: 'serviceaccounts', ...claims.serviceAccount }, now))
      return false;
    return claims.bound === undefined || stillThere(this.#store, claims.bound, now);
  }
}
