// What an admission policy sees of one request (k8s.io/apiserver admission.Attributes): the operation, the
// resource and subresource, the object before and after, and the user.
import type { UserInfo } from '../authn/user-info.ts';
import { isJsonObject, type JsonObject } from '../json.ts';
import type { ResourceType } from '../resource-types.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface AdmissionAttributes {
  readonly operation: Operation;
  readonly resource: GroupVersionResource;
  /** '' for the object itself; `status`, `eviction`, `token`. */
  readonly subResource: string;
  /** The kind of the request body: the object's, or e.g. policy/v1 Eviction on pods/eviction. */
  readonly kind: GroupVersionKind;
  readonly namespaced: boolean;
  readonly name: string;
  /** '' for cluster-scoped resources. */
  readonly namespace: string;
  /** The object after the write; undefined on DELETE. */
  readonly object: Readonly<JsonObject> | undefined;
  /** The stored object; undefined on CREATE. */
  readonly oldObject: Readonly<JsonObject> | undefined;
  readonly user: UserInfo;
  readonly dryRun: boolean;
}

/** A write of a stored resource: the rest of its attributes follow from the type and the objects. */
export type WriteOf = Pick<
  AdmissionAttributes,
  'subResource' | 'object' | 'oldObject' | 'user' | 'dryRun'
> & {
  readonly type: ResourceType;
};

function metadataString(object: Readonly<JsonObject> | undefined, key: string): string {
  const metadata = object?.metadata;
  const value = isJsonObject(metadata) ? metadata[key] : undefined;
  return typeof value === 'string' ? value : '';
}

/** The attributes of a create, update or delete of a stored resource (or its status). */
export function attributesOfWrite(write: WriteOf): AdmissionAttributes {
  const { type, object, oldObject } = write;
  const subject = object ?? oldObject;
  return {
    operation: object === undefined ? 'DELETE' : oldObject === undefined ? 'CREATE' : 'UPDATE',
    resource: { group: type.group, version: type.version, resource: type.plural },
    subResource: write.subResource,
    kind: { group: type.group, version: type.version, kind: type.kind },
    namespaced: type.namespaced,
    name: metadataString(subject, 'name'),
    namespace: type.namespaced ? metadataString(subject, 'namespace') : '',
    object,
    oldObject,
    user: write.user,
    dryRun: write.dryRun,
  };
}

/**
 * The attributes of a create on a subresource of a core/v1 namespaced resource whose body is another kind:
 * pods/eviction (policy/v1 Eviction), serviceaccounts/token (authentication.k8s.io/v1 TokenRequest).
 */
export function attributesOfSubresourceCreate(create: {
  readonly resource: string;
  readonly subResource: string;
  readonly kind: GroupVersionKind;
  readonly name: string;
  readonly namespace: string;
  readonly object: Readonly<JsonObject>;
  readonly user: UserInfo;
  readonly dryRun: boolean;
}): AdmissionAttributes {
  return {
    ...create,
    operation: 'CREATE',
    resource: { group: '', version: 'v1', resource: create.resource },
    namespaced: true,
    oldObject: undefined,
  };
}
