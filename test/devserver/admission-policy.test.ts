// The embedded server's authentication (TokenRequest, SelfSubjectReview) and ValidatingAdmissionPolicy engine, on
// policies written for these tests; the chart's own policies run on both servers in
// test/security/agent-admission.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';

interface Response {
  status: number;
  body: {
    message?: string;
    reason?: string;
    status?: {
      token?: string;
      userInfo?: { username?: string; groups?: string[]; extra?: Record<string, string[]> };
    };
    metadata?: { uid?: string };
    details?: { causes?: { field?: string; message?: string }[] };
  };
  warnings: string[];
}

const policies = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';

/** A resource rule on the core group (any version). */
function coreRule(operations: string[], resources: string[]): Record<string, unknown> {
  return { apiGroups: [''], apiVersions: ['*'], operations, resources };
}
const bindings = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const nodeNameExtra = 'authentication.kubernetes.io/node-name';

describe('dev server authentication and admission policies', () => {
  let server: DevServer;
  let now: Date;

  beforeEach(async () => {
    now = new Date('2026-01-01T00:00:00Z');
    server = await startDevServer({ clock: () => now });
  });
  afterEach(async () => {
    await server.close();
  });

  async function call(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string | undefined; contentType?: string } = {},
  ): Promise<Response> {
    const { token, contentType } = options;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : (JSON.parse(text) as Response['body']),
      warnings: response.headers.get('warning') === null ? [] : [response.headers.get('warning') ?? ''],
    };
  }

  /** A 422 whose first cause names `field`. */
  function expectRefusedField(response: Response, field: string): void {
    expect(response.status).toBe(422);
    expect(response.body.details?.causes?.[0]?.field).toBe(field);
  }

  async function create(path: string, body: unknown): Promise<Response> {
    const response = await call('POST', path, body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response;
  }

  async function setUpAccount(): Promise<{ podUid: string }> {
    await create('/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'agent' } });
    await create('/api/v1/nodes', { metadata: { name: 'n1' } });
    const pod = await create('/api/v1/namespaces/default/pods', {
      metadata: { name: 'agent-n1' },
      spec: { nodeName: 'n1', serviceAccountName: 'agent', containers: [{ name: 'c', image: 'x' }] },
    });
    return { podUid: pod.body.metadata?.uid ?? '' };
  }

  async function token(spec: Record<string, unknown> = {}): Promise<string> {
    const response = await create('/api/v1/namespaces/default/serviceaccounts/agent/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec,
    });
    return response.body.status?.token ?? '';
  }

  /** The user a token is, as SelfSubjectReview reports it (empty fields when absent). */
  async function userOf(
    t: string,
  ): Promise<{ username: string; groups: string[]; extra: Record<string, string[]> }> {
    const user = (await whoami(t)).body.status?.userInfo ?? {};
    return { username: user.username ?? '', groups: user.groups ?? [], extra: user.extra ?? {} };
  }

  const whoami = (t?: string): Promise<Response> =>
    call(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { kind: 'SelfSubjectReview' },
      { token: t },
    );

  describe('tokens', () => {
    it('no credentials is the loopback administrator; an unknown or malformed token is a 401', async () => {
      expect((await whoami()).body.status?.userInfo?.username).toBe('system:admin');
      const unknown = await whoami('not-issued');
      expect(unknown.status).toBe(401);
      expect(unknown.body.reason).toBe('Unauthorized');
      const basic = await fetch(`${server.url}/api/v1/nodes`, { headers: { authorization: 'Basic YTpi' } });
      expect(basic.status).toBe(401);
    });

    it('a pod-bound token carries the ServiceAccount, the pod and its node; an unbound one no node', async () => {
      const { podUid } = await setUpAccount();
      const bound = await token({
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'agent-n1', uid: podUid },
      });
      const user = await userOf(bound);
      expect(user.username).toBe('system:serviceaccount:default:agent');
      expect(user.groups).toEqual([
        'system:serviceaccounts',
        'system:serviceaccounts:default',
        'system:authenticated',
      ]);
      expect(user.extra[nodeNameExtra]).toEqual(['n1']);
      expect(user.extra['authentication.kubernetes.io/pod-uid']).toEqual([podUid]);
      expect(user.extra['authentication.kubernetes.io/node-uid']).toHaveLength(1);
      const unbound = await userOf(await token());
      expect(unbound.username).toBe('system:serviceaccount:default:agent');
      expect(unbound.extra[nodeNameExtra]).toBeUndefined();
    });

    it('refuses a short expiry, a uid that is not the pod, and a pod of another ServiceAccount', async () => {
      const { podUid } = await setUpAccount();
      const path = '/api/v1/namespaces/default/serviceaccounts/agent/token';
      const short = await call('POST', path, { spec: { expirationSeconds: 599 } });
      expectRefusedField(short, 'spec.expirationSeconds');
      const wrongUid = await call('POST', path, {
        spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'agent-n1', uid: 'other' } },
      });
      expect(wrongUid.status).toBe(409);
      await create('/api/v1/namespaces/default/pods', {
        metadata: { name: 'other' },
        spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] },
      });
      const otherAccount = await call('POST', path, {
        spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'other' } },
      });
      expect(otherAccount.status).toBe(400);
      expect(otherAccount.body.message).toMatch(/different serviceaccount name/);
      expect(podUid).not.toBe('');
      const missing = await call('POST', '/api/v1/namespaces/default/serviceaccounts/nobody/token', {
        spec: {},
      });
      expect(missing.status).toBe(404);
    });

    it('stops authenticating 60 s after it expires, or when its pod or ServiceAccount is deleted', async () => {
      const { podUid } = await setUpAccount();
      const ref = { apiVersion: 'v1', kind: 'Pod', name: 'agent-n1', uid: podUid };
      const expiring = await token({ expirationSeconds: 600, boundObjectRef: ref });
      const bound = await token({ expirationSeconds: 3600, boundObjectRef: ref });
      const unbound = await token({ expirationSeconds: 3600 });
      now = new Date(now.getTime() + 660_000);
      expect((await whoami(expiring)).status).toBe(201); // within kube-apiserver's 60 s leeway
      now = new Date(now.getTime() + 1_000);
      expect((await whoami(expiring)).status).toBe(401);
      expect((await whoami(bound)).status).toBe(201);
      await call('DELETE', '/api/v1/namespaces/default/pods/agent-n1', { gracePeriodSeconds: 0 });
      expect((await whoami(bound)).status).toBe(401);
      expect((await whoami(unbound)).status).toBe(201);
      await call('DELETE', '/api/v1/namespaces/default/serviceaccounts/agent');
      expect((await whoami(unbound)).status).toBe(401);
    });

    it('a terminating pod keeps its tokens for 60 s; a token for another audience never authenticates here', async () => {
      await create('/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'agent' } });
      const pod = await create('/api/v1/namespaces/default/pods', {
        metadata: { name: 'held', finalizers: ['example.com/hold'] },
        spec: { nodeName: 'n1', serviceAccountName: 'agent', containers: [{ name: 'c', image: 'x' }] },
      });
      const held = await token({
        boundObjectRef: { kind: 'Pod', name: 'held', uid: pod.body.metadata?.uid ?? '' },
      });
      expect((await call('DELETE', '/api/v1/namespaces/default/pods/held')).status).toBe(202);
      expect((await whoami(held)).status).toBe(201);
      now = new Date(now.getTime() + 61_000);
      expect((await whoami(held)).status).toBe(401);
      const vault = await token({ audiences: ['vault'] });
      expect((await whoami(vault)).status).toBe(401);
    });
  });

  describe('ValidatingAdmissionPolicy', () => {
    const namespacePolicy = (name: string, spec: Record<string, unknown>): unknown => ({
      metadata: { name },
      spec: {
        matchConstraints: {
          resourceRules: [coreRule(['CREATE', 'UPDATE'], ['nodes'])],
        },
        ...spec,
      },
    });
    const bind = (name: string, extra: Record<string, unknown> = {}): unknown => ({
      metadata: { name },
      spec: { policyName: name, validationActions: ['Deny'], ...extra },
    });
    const node = (name: string, labels: Record<string, string> = {}): unknown => ({
      metadata: { name, labels },
    });

    it('denies with the message, messageExpression and reason of the failed validation', async () => {
      await create(
        policies,
        namespacePolicy('zone', {
          variables: [
            {
              name: 'zone',
              expression:
                "has(object.metadata.labels) && 'zone' in object.metadata.labels ? object.metadata.labels['zone'] : ''",
            },
          ],
          validations: [
            { expression: "variables.zone != ''", message: 'nodes need a zone label', reason: 'Forbidden' },
            {
              expression: "variables.zone != 'x'",
              messageExpression: "'zone ' + variables.zone + ' is closed'",
            },
          ],
        }),
      );
      await create(bindings, bind('zone'));
      const none = await call('POST', '/api/v1/nodes', node('a'));
      expect(none.status).toBe(403);
      expect(none.body.message).toBe(
        `nodes "a" is forbidden: ValidatingAdmissionPolicy 'zone' with binding 'zone' denied request: nodes need a zone label`,
      );
      const closed = await call('POST', '/api/v1/nodes', node('b', { zone: 'x' }));
      expect(closed.status).toBe(422); // no reason given: Invalid
      expect(closed.body.message).toMatch(/denied request: zone x is closed$/);
      await create('/api/v1/nodes', node('c', { zone: 'y' }));
      // Not matched: DELETE is not among the operations, and pods are another resource.
      expect((await call('DELETE', '/api/v1/nodes/c')).status).toBe(200);
    });

    it('a binding without Deny only warns; a binding to no policy and an unbound policy do nothing', async () => {
      await create(
        policies,
        namespacePolicy('never', { validations: [{ expression: 'false', message: 'no' }] }),
      );
      await create(bindings, bind('never', { validationActions: ['Warn'] }));
      await create(bindings, {
        metadata: { name: 'orphan' },
        spec: { policyName: 'absent', validationActions: ['Deny'] },
      });
      const warned = await call('POST', '/api/v1/nodes', node('a'));
      expect(warned.status).toBe(201);
      expect(warned.warnings.join()).toMatch(
        /Validation failed for ValidatingAdmissionPolicy 'never' with binding 'never': no/,
      );
    });

    it('an evaluation error denies under failurePolicy Fail and is skipped under Ignore', async () => {
      const broken = { validations: [{ expression: 'object.spec.missing == 1' }] };
      await create(policies, namespacePolicy('fail', { ...broken, failurePolicy: 'Fail' }));
      await create(bindings, bind('fail'));
      const failed = await call('POST', '/api/v1/nodes', node('a'));
      expect(failed.status).toBe(422); // an error has no reason: Invalid
      expect(failed.body.message).toMatch(/expression 'object.spec.missing == 1' resulted in error/);
      await call('DELETE', `${bindings}/fail`);
      await create(policies, namespacePolicy('ignore', { ...broken, failurePolicy: 'Ignore' }));
      await create(bindings, bind('ignore'));
      expect((await call('POST', '/api/v1/nodes', node('b'))).status).toBe(201);
    });

    it('refuses a policy whose expression does not compile, naming the field', async () => {
      const bad = await call(
        'POST',
        policies,
        namespacePolicy('bad', { validations: [{ expression: 'object.(' }] }),
      );
      expectRefusedField(bad, 'spec.validations[0].expression');
    });

    it('matches subresources, operations and excluded rules as written', async () => {
      await create(policies, {
        metadata: { name: 'status-only' },
        spec: {
          matchConstraints: {
            resourceRules: [coreRule(['*'], ['nodes/status'])],
            excludeResourceRules: [coreRule(['*'], ['nodes/status'])],
          },
          validations: [{ expression: 'false', message: 'never' }],
        },
      });
      await create(bindings, bind('status-only'));
      await create('/api/v1/nodes', node('a'));
      // Excluded again: nothing denies.
      const patch = { status: { conditions: [{ type: 'X', status: 'True' }] } };
      expect(
        (
          await call('PATCH', '/api/v1/nodes/a/status', patch, {
            contentType: 'application/merge-patch+json',
          })
        ).status,
      ).toBe(200);
      await call('DELETE', `${policies}/status-only`);
      await create(policies, {
        metadata: { name: 'status-only' },
        spec: {
          matchConstraints: {
            resourceRules: [coreRule(['UPDATE'], ['*/status'])],
          },
          validations: [
            {
              expression: "request.subResource == 'status' && request.operation == 'UPDATE' && false",
              message: 'status is read-only',
            },
          ],
        },
      });
      const denied = await call('PATCH', '/api/v1/nodes/a/status', patch, {
        contentType: 'application/merge-patch+json',
      });
      expect(denied.body.message).toMatch(/status is read-only/);
      // The node itself is not a status subresource.
      const main = await call(
        'PATCH',
        '/api/v1/nodes/a',
        { metadata: { labels: { a: 'b' } } },
        { contentType: 'application/merge-patch+json' },
      );
      expect(main.status).toBe(200);
    });

    it('evaluates once per parameter object, and a missing parameter follows parameterNotFoundAction', async () => {
      const limitPolicy = {
        metadata: { name: 'limit' },
        spec: {
          paramKind: { apiVersion: 'v1', kind: 'Namespace' },
          matchConstraints: {
            resourceRules: [coreRule(['CREATE'], ['nodes'])],
          },
          validations: [
            {
              expression:
                "!has(params.metadata.labels) || !('forbid' in params.metadata.labels) || params.metadata.labels['forbid'] != object.metadata.name",
              messageExpression: "'namespace ' + params.metadata.name + ' forbids ' + object.metadata.name",
            },
          ],
        },
      };
      await create(policies, limitPolicy);
      await create(
        bindings,
        bind('limit', {
          paramRef: { selector: { matchLabels: { rules: 'nodes' } }, parameterNotFoundAction: 'Allow' },
        }),
      );
      expect((await call('POST', '/api/v1/nodes', node('free'))).status).toBe(201); // no params, Allow
      await create('/api/v1/namespaces', {
        metadata: { name: 'r1', labels: { rules: 'nodes', forbid: 'x' } },
      });
      await create('/api/v1/namespaces', {
        metadata: { name: 'r2', labels: { rules: 'nodes', forbid: 'y' } },
      });
      expect((await call('POST', '/api/v1/nodes', node('x'))).body.message).toMatch(/namespace r1 forbids x/);
      expect((await call('POST', '/api/v1/nodes', node('y'))).body.message).toMatch(/namespace r2 forbids y/);
      expect((await call('POST', '/api/v1/nodes', node('z'))).status).toBe(201);
      await call(
        'PUT',
        `${bindings}/limit`,
        bind('limit', { paramRef: { name: 'absent', parameterNotFoundAction: 'Deny' } }),
      );
      const missing = await call('POST', '/api/v1/nodes', node('w'));
      expect(missing.status).toBe(422); // a configuration error: Invalid
      expect(missing.body.message).toMatch(
        /no params found for policy binding with `Deny` parameterNotFoundAction/,
      );
    });

    it('sees the user of the request: a pod-bound token is denied on another node', async () => {
      const { podUid } = await setUpAccount();
      await create('/api/v1/nodes', node('n2'));
      await create(policies, {
        metadata: { name: 'own-node' },
        spec: {
          matchConstraints: {
            resourceRules: [coreRule(['UPDATE'], ['nodes'])],
          },
          matchConditions: [
            {
              name: 'agent',
              expression: "request.userInfo.username == 'system:serviceaccount:default:agent'",
            },
          ],
          validations: [
            {
              expression: `'${nodeNameExtra}' in request.userInfo.extra && request.userInfo.extra['${nodeNameExtra}'][0] == request.name`,
              reason: 'Forbidden',
            },
          ],
        },
      });
      await create(bindings, bind('own-node'));
      const agent = await token({
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'agent-n1', uid: podUid },
      });
      const label = { metadata: { labels: { seen: 'yes' } } };
      const patch = (name: string, t?: string): Promise<Response> =>
        call('PATCH', `/api/v1/nodes/${name}`, label, {
          token: t,
          contentType: 'application/merge-patch+json',
        });
      expect((await patch('n1', agent)).status).toBe(200);
      expect((await patch('n2', agent)).status).toBe(403);
      expect((await patch('n2')).status).toBe(200); // the administrator is not matched
    });

    it('never applies to policies and bindings: a policy denying every delete can still be removed', async () => {
      await create(policies, {
        metadata: { name: 'no-deletes' },
        spec: {
          matchConstraints: {
            resourceRules: [
              { apiGroups: ['*'], apiVersions: ['*'], operations: ['DELETE'], resources: ['*'] },
            ],
          },
          validations: [{ expression: 'false', message: 'nothing is ever deleted' }],
        },
      });
      await create(bindings, bind('no-deletes'));
      await create('/api/v1/nodes', node('a'));
      expect((await call('DELETE', '/api/v1/nodes/a')).body.message).toMatch(/nothing is ever deleted/);
      expect((await call('DELETE', `${bindings}/no-deletes`)).status).toBe(200);
      expect((await call('DELETE', `${policies}/no-deletes`)).status).toBe(200);
      expect((await call('DELETE', '/api/v1/nodes/a')).status).toBe(200);
    });

    it('refuses a malformed selector when the policy or binding is written, naming the field', async () => {
      const policy = await call(
        'POST',
        policies,
        namespacePolicy('bad-selector', { validations: [{ expression: 'true' }] }),
      );
      expect(policy.status).toBe(201);
      const badPolicy = await call('POST', policies, {
        metadata: { name: 'worse' },
        spec: {
          matchConstraints: { resourceRules: [], objectSelector: { matchExpressions: 5 } },
          validations: [{ expression: 'true' }],
        },
      });
      expectRefusedField(badPolicy, 'spec.matchConstraints.objectSelector');
      const badBinding = await call(
        'POST',
        bindings,
        bind('bad-selector', { paramRef: { selector: { matchExpressions: [null] } } }),
      );
      expectRefusedField(badBinding, 'spec.paramRef.selector');
    });

    it('a rule with resourceNames matches only those names; a false matchCondition wins over an erroring one', async () => {
      await create(policies, {
        metadata: { name: 'named' },
        spec: {
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [''],
                apiVersions: ['v1'],
                operations: ['CREATE'],
                resources: ['nodes'],
                resourceNames: ['only-this'],
              },
            ],
          },
          matchConditions: [
            { name: 'errors', expression: 'object.spec.missing == 1' },
            { name: 'skip-labelled', expression: '!has(object.metadata.labels)' },
          ],
          validations: [{ expression: 'false', message: 'named node refused', reason: 'Forbidden' }],
        },
      });
      await create(bindings, bind('named'));
      expect((await call('POST', '/api/v1/nodes', node('other'))).status).toBe(201);
      // Labelled: the second condition is false, so the first one's error does not count.
      expect((await call('POST', '/api/v1/nodes', node('only-this', { a: 'b' }))).status).toBe(201);
      await call('DELETE', '/api/v1/nodes/only-this');
      // Unlabelled: no condition is false, so the error fails the request (failurePolicy Fail).
      const failed = await call('POST', '/api/v1/nodes', node('only-this'));
      expect(failed.status).toBe(422);
      expect(failed.body.message).toMatch(/expression 'object.spec.missing == 1' resulted in error/);
    });

    it('TokenRequests pass the policies: tokens of a ServiceAccount can be required to be pod-bound', async () => {
      const { podUid } = await setUpAccount();
      await create(policies, {
        metadata: { name: 'bound-tokens' },
        spec: {
          matchConstraints: {
            resourceRules: [coreRule(['CREATE'], ['serviceaccounts/token'])],
          },
          validations: [
            {
              expression: "has(object.spec.boundObjectRef) && object.spec.boundObjectRef.kind == 'Pod'",
              message: 'tokens of this account must be bound to a pod',
              reason: 'Forbidden',
            },
          ],
        },
      });
      await create(bindings, bind('bound-tokens'));
      const path = '/api/v1/namespaces/default/serviceaccounts/agent/token';
      const unbound = await call('POST', path, { spec: {} });
      expect(unbound.status).toBe(403);
      expect(unbound.body.message).toBe(
        `serviceaccounts "agent" is forbidden: ValidatingAdmissionPolicy 'bound-tokens' with binding 'bound-tokens' denied request: tokens of this account must be bound to a pod`,
      );
      await token({ boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'agent-n1', uid: podUid } });
    });
  });
});
