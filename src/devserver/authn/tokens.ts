// ServiceAccount tokens: issued by TokenRequest (handlers/token-request.ts), presented as `Authorization: Bearer`.
// A real API server signs a JWT whose claims carry the user info; this one hands out a random opaque token and
// keeps the user info in memory, which gives clients the same contract: the token names a ServiceAccount, a token
// bound to a pod carries that pod's node (authentication.kubernetes.io/node-name, Kubernetes 1.30+), and it stops
// authenticating when it expires or when the ServiceAccount or the bound object is deleted or re-created.
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

export interface TokenClaims {
  readonly user: UserInfo;
  readonly serviceAccount: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly bound: BoundObject | undefined;
  readonly expiresAt: Date;
}

function uidOf(store: ObjectStore, resource: string, namespace: string, name: string): string | undefined {
  const metadata = store.get(resource, namespace, name)?.metadata;
  return isJsonObject(metadata) && typeof metadata.uid === 'string' ? metadata.uid : undefined;
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
    if (this.#now().getTime() >= claims.expiresAt.getTime()) return false;
    const account = claims.serviceAccount;
    if (uidOf(this.#store, 'serviceaccounts', account.namespace, account.name) !== account.uid) return false;
    const bound = claims.bound;
    return (
      bound === undefined || uidOf(this.#store, bound.resource, bound.namespace, bound.name) === bound.uid
    );
  }
}
