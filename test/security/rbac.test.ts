// RBAC least privilege, asked the way the API server decides it: what can each of the chart's service accounts
// do? Rendered by the real helm binary (test/chart/helm.ts); test/chart/chart.test.ts pins the exact grant lists,
// this test asks the questions that matter for the threat model (docs/security.md), for the feature combinations
// that change RBAC.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { chartDir, releaseNamespace, renderChart, type Manifest } from '../chart/helm.ts';
import { allowedOf, allows, type AccessRequest, type Subject } from './rbac-access.ts';

const agent: Subject = { namespace: releaseNamespace, name: 'nodeqos-agent' };
const controller: Subject = { namespace: releaseNamespace, name: 'nodeqos-controller' };
const nip = { group: 'nodeqos.io', resource: 'nodeisolationplans' };
const nqp = { group: 'nodeqos.io', resource: 'nodeqospolicies' };

const writeVerbs = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;
const readVerbs = ['get', 'list', 'watch'] as const;

function each(verbs: readonly string[], target: Omit<AccessRequest, 'verb'>): AccessRequest[] {
  return verbs.map(verb => ({ verb, ...target }));
}

/** Requests that would let a subject raise its own privileges or take over the cluster. */
const escalation: AccessRequest[] = [
  ...['roles', 'clusterroles'].flatMap(resource =>
    each(['escalate', 'bind', 'create', 'update', 'patch'], { group: 'rbac.authorization.k8s.io', resource }),
  ),
  ...['rolebindings', 'clusterrolebindings'].flatMap(resource =>
    each(['create', 'update', 'patch'], { group: 'rbac.authorization.k8s.io', resource }),
  ),
  ...['users', 'groups', 'serviceaccounts', 'uids'].map(resource => ({
    verb: 'impersonate',
    group: '',
    resource,
  })),
  { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes' },
  { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token', namespace: 'kube-system' },
  {
    verb: 'create',
    group: '',
    resource: 'serviceaccounts',
    subresource: 'token',
    namespace: releaseNamespace,
  },
  ...each(['create', 'update', 'patch'], { group: '', resource: 'pods', namespace: 'kube-system' }),
  ...['exec', 'attach', 'portforward', 'ephemeralcontainers'].map(subresource => ({
    verb: 'create',
    group: '',
    resource: 'pods',
    subresource,
    namespace: releaseNamespace,
  })),
  ...each(['create', 'update', 'patch'], {
    group: 'apps',
    resource: 'daemonsets',
    namespace: releaseNamespace,
  }),
  ...each(['create', 'update', 'patch'], {
    group: 'apps',
    resource: 'deployments',
    namespace: releaseNamespace,
  }),
  ...each(['create', 'update', 'patch'], { group: 'batch', resource: 'jobs', namespace: releaseNamespace }),
  ...each(['update', 'patch'], { group: '', resource: 'nodes' }),
  // nodes/status patch is not here: the agent holds it for its Node conditions, and RBAC cannot narrow it; the
  // chart's admission policy confines it to the agent's own Node and its nodeqos conditions
  // (test/security/agent-admission.test.ts). The controller must not hold it (asserted below).
  { verb: 'create', group: '', resource: 'nodes', subresource: 'proxy' },
  { verb: 'get', group: '', resource: 'nodes', subresource: 'proxy' },
  { verb: 'create', group: 'certificates.k8s.io', resource: 'certificatesigningrequests' },
  {
    verb: 'update',
    group: 'certificates.k8s.io',
    resource: 'certificatesigningrequests',
    subresource: 'approval',
  },
  { verb: 'approve', group: 'certificates.k8s.io', resource: 'signers' },
  ...[
    'mutatingwebhookconfigurations',
    'validatingwebhookconfigurations',
    'validatingadmissionpolicies',
    'validatingadmissionpolicybindings',
  ].flatMap(resource =>
    each(['create', 'update', 'patch'], { group: 'admissionregistration.k8s.io', resource }),
  ),
  ...each(['create', 'update', 'patch', 'delete'], {
    group: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
  }),
  ...each(['update', 'patch'], { group: '', resource: 'namespaces' }),
  { verb: 'use', group: 'policy', resource: 'podsecuritypolicies' },
];

/** Object contents neither component needs: secrets, config, tokens, anywhere. */
const secretsEverywhere: AccessRequest[] = [
  ...each(readVerbs, { group: '', resource: 'secrets' }),
  ...each(readVerbs, { group: '', resource: 'secrets', namespace: releaseNamespace }),
  ...each(readVerbs, { group: '', resource: 'secrets', namespace: 'kube-system' }),
  ...each(readVerbs, { group: '', resource: 'configmaps', namespace: 'kube-system' }),
  ...each(['get', 'list'], { group: '', resource: 'serviceaccounts', namespace: 'kube-system' }),
];

function rbacFor(values: Record<string, unknown>): Manifest[] {
  return renderChart({ values }).filter(m => /Role|Binding/.test(m.kind));
}

/** The combinations that change RBAC: leader election (the Role), and the defaults. */
const variants: Record<string, Record<string, unknown>> = {
  defaults: {},
  'leader election off, one replica': { features: { leaderElection: false }, controller: { replicas: 1 } },
  'every feature on': {
    features: { leaderElection: true, podDisruptionBudget: true, networkQoS: true, grafanaDashboard: true },
  },
};

describe.each(Object.entries(variants))('RBAC as the API server decides it: %s', (_, values) => {
  let rbac: Manifest[] = [];
  beforeAll(() => {
    rbac = rbacFor(values);
  }, 60_000);

  test('the agent reads its plan and pods, writes only plan status: it cannot write any plan spec', () => {
    expect(allows(rbac, agent, { verb: 'patch', ...nip, subresource: 'status', name: 'node-a' })).toBe(true);
    expect(allows(rbac, agent, { verb: 'watch', ...nip })).toBe(true);
    expect(allows(rbac, agent, { verb: 'list', group: '', resource: 'pods' })).toBe(true);
    expect(allowedOf(rbac, agent, each(writeVerbs, { ...nip, name: 'node-a' }))).toEqual([]);
    expect(allowedOf(rbac, agent, each(['update'], { ...nip, subresource: 'status' }))).toEqual([]);
    expect(allowedOf(rbac, agent, [...each(readVerbs, nqp), ...each(writeVerbs, nqp)])).toEqual([]);
    // It reads its Node (conditions and taints before writing them) and writes none by default: the taint's patch
    // comes only with agent.bePressureTaint.
    expect(
      allowedOf(rbac, agent, each([...readVerbs, ...writeVerbs], { group: '', resource: 'nodes' })),
    ).toEqual(['get core/nodes']);
    expect(
      allowedOf(rbac, agent, each(writeVerbs, { group: '', resource: 'pods', namespace: 'default' })),
    ).toEqual([]);
    expect(
      allowedOf(rbac, agent, each(['create', 'patch'], { group: 'events.k8s.io', resource: 'events' })),
    ).toEqual([]);
    // Events on the pods it evicts and on its Node: core events, create only.
    const events = { group: '', resource: 'events', namespace: 'default' };
    expect(allows(rbac, agent, { verb: 'create', ...events })).toBe(true);
    expect(allowedOf(rbac, agent, each(['update', 'patch', 'delete'], events))).toEqual([]);
  });

  test('the agent may evict pods and patch Node status (the admission policy narrows both to its own node)', () => {
    const eviction = {
      group: '',
      resource: 'pods',
      subresource: 'eviction',
      namespace: 'default',
      name: 'p',
    };
    expect(allows(rbac, agent, { verb: 'create', ...eviction })).toBe(true);
    expect(
      allows(rbac, agent, { verb: 'patch', group: '', resource: 'nodes', subresource: 'status', name: 'n' }),
    ).toBe(true);
    expect(
      allowedOf(
        rbac,
        agent,
        each(['update', 'delete'], { group: '', resource: 'nodes', subresource: 'status' }),
      ),
    ).toEqual([]);
    expect(allowedOf(rbac, agent, each(['get', 'update', 'patch', 'delete'], eviction))).toEqual([]);
  });

  test('the controller creates core events and nothing else of events: no patch, no events.k8s.io', () => {
    const events = { group: '', resource: 'events', namespace: 'default' };
    expect(allows(rbac, controller, { verb: 'create', ...events })).toBe(true);
    expect(allowedOf(rbac, controller, each(['patch', 'update', 'delete', 'get', 'list'], events))).toEqual(
      [],
    );
    expect(
      allowedOf(
        rbac,
        controller,
        each(['create', 'patch'], { group: 'events.k8s.io', resource: 'events', namespace: 'default' }),
      ),
    ).toEqual([]);
  });

  test('the controller writes plans and policy status; it cannot change a policy spec or any workload', () => {
    expect(allows(rbac, controller, { verb: 'patch', ...nip, name: 'node-a' })).toBe(true);
    expect(allows(rbac, controller, { verb: 'patch', ...nqp, subresource: 'status', name: 'p' })).toBe(true);
    expect(allowedOf(rbac, controller, each(writeVerbs, nqp))).toEqual([]);
    expect(allowedOf(rbac, controller, each(['update'], { ...nqp, subresource: 'status' }))).toEqual([]);
    expect(
      allowedOf(rbac, controller, each(writeVerbs, { group: '', resource: 'pods', namespace: 'default' })),
    ).toEqual([]);
    expect(allowedOf(rbac, controller, each(writeVerbs, { group: '', resource: 'nodes' }))).toEqual([]);
    expect(
      allowedOf(
        rbac,
        controller,
        each(['update', 'patch'], { group: '', resource: 'nodes', subresource: 'status' }),
      ),
    ).toEqual([]);
    expect(allowedOf(rbac, controller, each(['update', 'patch'], { ...nip, subresource: 'status' }))).toEqual(
      [],
    );
  });

  test('nothing the chart binds can escalate, bind, impersonate, mint tokens, exec, or run pods', () => {
    expect(allowedOf(rbac, agent, escalation)).toEqual([]);
    expect(allowedOf(rbac, controller, escalation)).toEqual([]);
  });

  test('nothing the chart binds can read secrets or configuration, in any namespace', () => {
    expect(allowedOf(rbac, agent, secretsEverywhere)).toEqual([]);
    expect(allowedOf(rbac, controller, secretsEverywhere)).toEqual([]);
  });

  test('the leader-election Role is confined to its namespace and its one Lease', () => {
    const lease = { group: 'coordination.k8s.io', resource: 'leases' };
    expect(
      allowedOf(
        rbac,
        controller,
        each(['get', 'update'], { ...lease, namespace: 'kube-system', name: 'nodeqos-controller' }),
      ),
    ).toEqual([]);
    expect(
      allowedOf(
        rbac,
        controller,
        each(['get', 'update', 'delete'], {
          ...lease,
          namespace: releaseNamespace,
          name: 'kube-controller-manager',
        }),
      ),
    ).toEqual([]);
    expect(
      allowedOf(
        rbac,
        agent,
        each(['get', 'create', 'update'], {
          ...lease,
          namespace: releaseNamespace,
          name: 'nodeqos-controller',
        }),
      ),
    ).toEqual([]);
  });
});

describe('the questions fail when the chart is widened', () => {
  test('a wildcard for the agent, or secrets for the controller, is caught', () => {
    const copy = mkdtempSync(join(tmpdir(), 'nodeqos-rbac-widened-'));
    try {
      cpSync(chartDir, copy, { recursive: true });
      const agentRbac = join(copy, 'templates', 'rbac-agent.yaml');
      const widenedAgent = readFileSync(agentRbac, 'utf8').replace(
        '    resources: [nodeisolationplans]\n    verbs: [get, list, watch]\n',
        "    resources: ['*']\n    verbs: [get, list, watch, patch]\n",
      );
      writeFileSync(agentRbac, widenedAgent);
      const controllerRbac = join(copy, 'templates', 'rbac-controller.yaml');
      const widenedController = readFileSync(controllerRbac, 'utf8').replace(
        '    resources: [nodes, pods]\n',
        '    resources: [nodes, pods, secrets]\n',
      );
      writeFileSync(controllerRbac, widenedController);
      const rbac = renderChart({ chart: copy }).filter(m => /Role|Binding/.test(m.kind));
      expect(allowedOf(rbac, agent, each(['patch'], { ...nip, name: 'node-a' }))).toEqual([
        'patch nodeqos.io/nodeisolationplans named node-a',
      ]);
      expect(allowedOf(rbac, controller, secretsEverywhere).length).toBeGreaterThan(0);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);
});
