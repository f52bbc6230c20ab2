// The operations of one resource in OpenAPI v3 form, shaped like kube-apiserver's: each carries
// x-kubernetes-action and x-kubernetes-group-version-kind, and PATCH lists the patch types the server accepts
// and the fieldValidation parameter, which is what kubectl reads to decide that the server validates fields
// (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go) and whether strategic merge patch is allowed
// (k8s.io/kubectl/pkg/cmd/apply/patcher.go).
import type { JsonObject } from '../json.ts';
import type { ResourceType } from '../resource-types.ts';
import { definitionName, groupVersionPath, metaPrefix } from './names.ts';

function query(name: string, type: 'string' | 'boolean' | 'integer', description: string): JsonObject {
  const schema: JsonObject = { type, uniqueItems: true };
  return { name, in: 'query', description, schema };
}

const p = {
  pretty: query('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: query('dryRun', 'string', 'When present, indicates that modifications should not be persisted.'),
  fieldManager: query(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes.',
  ),
  fieldValidation: query(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (the default) and Strict.',
  ),
  force: query(
    'force',
    'boolean',
    'Force is going to "force" Apply requests. It must be unset for non-apply patch requests.',
  ),
  gracePeriodSeconds: query(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted.',
  ),
  propagationPolicy: query(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'.",
  ),
  allowWatchBookmarks: query(
    'allowWatchBookmarks',
    'boolean',
    'allowWatchBookmarks requests watch events with type "BOOKMARK".',
  ),
  continue: query(
    'continue',
    'string',
    'The continue option should be set when retrieving more results from the server.',
  ),
  fieldSelector: query(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields.',
  ),
  labelSelector: query(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels.',
  ),
  limit: query('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  resourceVersion: query(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from.',
  ),
  resourceVersionMatch: query(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls.',
  ),
  sendInitialEvents: query(
    'sendInitialEvents',
    'boolean',
    'sendInitialEvents=true may be set together with watch=true.',
  ),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  watch: query(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  ),
};

const listParams = [
  p.allowWatchBookmarks,
  p.continue,
  p.fieldSelector,
  p.labelSelector,
  p.limit,
  p.resourceVersion,
  p.resourceVersionMatch,
  p.sendInitialEvents,
  p.timeoutSeconds,
  p.watch,
];
const writeParams = [p.dryRun, p.fieldManager, p.fieldValidation];
const ignoreStoreReadError = query(
  'ignoreStoreReadErrorWithClusterBreakingPotential',
  'boolean',
  'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.',
);
const orphanDependents = query(
  'orphanDependents',
  'boolean',
  'Deprecated: please use the PropagationPolicy.',
);
const deleteParams = [
  p.dryRun,
  p.gracePeriodSeconds,
  ignoreStoreReadError,
  orphanDependents,
  p.propagationPolicy,
];

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

function content(schema: JsonObject, types: readonly string[]): JsonObject {
  return Object.fromEntries(types.map(t => [t, { schema }]));
}

const responseTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

function response(description: string, schema: JsonObject): JsonObject {
  return { description, content: content(schema, responseTypes) };
}

const unauthorized: JsonObject = { description: 'Unauthorized' };

function capitalized(text: string): string {
  return text.replace(/(^|[.-])([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());
}

/** Names kube-apiserver derives for a resource's operations: ids, tag, scope and paths. */
function naming(type: ResourceType): {
  idPart: string;
  scope: string;
  base: string;
  tags: string[];
  namespaceParam: JsonObject[];
} {
  // Built-in groups drop .k8s.io (core_v1, coordination_v1); CRD groups keep every part (nodeqosIo_v1alpha1).
  const groupPart =
    type.group === '' ? 'core' : type.builtin ? type.group.replace(/\.k8s\.io$/, '') : type.group;
  const idPart = `${capitalized(groupPart)}${capitalized(type.version)}`;
  const scope = type.namespaced ? 'Namespaced' : '';
  const base = `/${groupVersionPath(type.group, type.version)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
  const namespaceParam: JsonObject[] = type.namespaced
    ? [
        {
          name: 'namespace',
          in: 'path',
          description: 'object name and auth scope, such as for teams and projects',
          required: true,
          schema: { type: 'string', uniqueItems: true },
        },
      ]
    : [];
  const camelGroup = capitalized(groupPart);
  const tags = [`${camelGroup.charAt(0).toLowerCase()}${camelGroup.slice(1)}_${type.version}`];
  return { idPart, scope, base, tags, namespaceParam };
}

/** Where built-in types and custom resources differ in kube-apiserver's published operations. */
function bodyVariants(
  type: ResourceType,
  kindRef: JsonObject,
): { objectBody: JsonObject; deleteBody: JsonObject; getParams: JsonObject; patchResponses: JsonObject } {
  const bodyTypes = type.builtin ? ['*/*'] : ['application/json', 'application/yaml'];
  const objectBody: JsonObject = { content: content(kindRef, bodyTypes), required: true };
  const deleteBody: JsonObject = { content: content(ref(`${metaPrefix}.DeleteOptions`), bodyTypes) };
  const getParams: JsonObject = type.builtin ? {} : { parameters: [p.resourceVersion] };
  const patchResponses: JsonObject = type.builtin
    ? { '200': response('OK', kindRef), '201': response('Created', kindRef), '401': unauthorized }
    : { '200': response('OK', kindRef), '401': unauthorized };
  return { objectBody, deleteBody, getParams, patchResponses };
}

/** The path items of one resource (collection, item, and /status when it has one). */
export function resourcePaths(type: ResourceType): Record<string, JsonObject> {
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const kindRef = ref(definitionName(type));
  const listRef = ref(definitionName(type, type.listKind));
  const statusRef = ref(`${metaPrefix}.Status`);
  const { idPart, scope, base, tags, namespaceParam } = naming(type);
  const nameParam: JsonObject = {
    name: 'name',
    in: 'path',
    description: `name of the ${type.kind}`,
    required: true,
    schema: { type: 'string', uniqueItems: true },
  };
  const op = (action: string, verb: string, description: string, extra: JsonObject): JsonObject => ({
    tags,
    description,
    operationId:
      verb === 'deleteCollection'
        ? `delete${idPart}Collection${scope}${type.kind}`
        : `${verb}${idPart}${scope}${type.kind}`,
    ...extra,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  const patchTypes = [
    'application/json-patch+json',
    'application/merge-patch+json',
    ...(type.strategicMergePatch ? ['application/strategic-merge-patch+json'] : []),
    'application/apply-patch+yaml',
  ];
  const patchBody: JsonObject = { content: content(ref(`${metaPrefix}.Patch`), patchTypes), required: true };
  // Bodies: built-in types accept any registered encoding (*/*), custom resources JSON and YAML.
  const { objectBody, deleteBody, getParams, patchResponses } = bodyVariants(type, kindRef);
  const item = (sub: string): JsonObject => {
    const what = sub === '' ? 'the specified' : 'status of the specified';
    return {
      get: op('get', 'read', `read ${what} ${type.kind}`, {
        ...getParams,
        responses: { '200': response('OK', kindRef), '401': unauthorized },
      }),
      put: op('put', 'replace', `replace ${what} ${type.kind}`, {
        parameters: writeParams,
        requestBody: objectBody,
        responses: {
          '200': response('OK', kindRef),
          '201': response('Created', kindRef),
          '401': unauthorized,
        },
      }),
      patch: op('patch', 'patch', `partially update ${what} ${type.kind}`, {
        parameters: [...writeParams, p.force],
        requestBody: patchBody,
        responses: patchResponses,
      }),
      parameters: [nameParam, ...namespaceParam, p.pretty],
    };
  };
  const itemPath = item('');
  itemPath.delete = op('delete', 'delete', `delete a ${type.kind}`, {
    parameters: deleteParams,
    requestBody: deleteBody,
    responses: {
      '200': response('OK', statusRef),
      '202': response('Accepted', statusRef),
      '401': unauthorized,
    },
  });
  const paths: Record<string, JsonObject> = {
    [base]: {
      get: op('list', 'list', `list or watch objects of kind ${type.kind}`, {
        parameters: listParams,
        responses: { '200': response('OK', listRef), '401': unauthorized },
      }),
      post: op('post', 'create', `create a ${type.kind}`, {
        parameters: writeParams,
        requestBody: objectBody,
        responses: {
          '200': response('OK', kindRef),
          '201': response('Created', kindRef),
          '202': response('Accepted', kindRef),
          '401': unauthorized,
        },
      }),
      delete: op('deletecollection', 'deleteCollection', `delete collection of ${type.kind}`, {
        // As published by kube-apiserver: CRD collections list only the list parameters here.
        parameters: type.builtin
          ? [
              ...deleteParams,
              ...listParams.filter(q => q.name !== 'watch' && q.name !== 'allowWatchBookmarks'),
            ]
          : listParams,
        ...(type.builtin ? { requestBody: deleteBody } : {}),
        responses: { '200': response('OK', statusRef), '401': unauthorized },
      }),
      parameters: [...namespaceParam, p.pretty],
    },
    [`${base}/{name}`]: itemPath,
  };
  // kube-apiserver has no deletecollection for namespaces (the namespace controller empties them one by one).
  if (type.builtin && type.group === '' && type.plural === 'namespaces') delete paths[base]?.delete;
  if (type.statusSubresource) {
    const status = item('status');
    for (const method of ['get', 'put', 'patch']) {
      const operation = status[method] as JsonObject;
      const id = operation.operationId;
      operation.operationId = `${typeof id === 'string' ? id : ''}Status`;
    }
    paths[`${base}/{name}/status`] = status;
  }
  return paths;
}
