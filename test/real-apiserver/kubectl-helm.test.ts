// Real clients against the real kube-apiserver: kubectl 1.35 and helm (from the npm package scripts/chart-tools.ts
// unpacks) apply, get, explain, wait and delete nodeqos objects, install/upgrade/uninstall charts/nodeqos, and
// the chart's RBAC is exercised for real by impersonating its ServiceAccounts (kubectl --as).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChartTools } from '../../scripts/chart-tools.ts';
import { runController, type RunningController } from '../../src/controller/run-controller.ts';
import { realApiserverPlan } from '../support/real-apiserver.ts';
import { useRealApiserver } from '../support/api-servers.ts';
import { TestCluster } from '../support/cluster.ts';
import { eventually } from '../support/eventually.ts';
import { RawClient, type RawResponse } from '../support/raw-client.ts';
import { runAsync } from '../support/run-async.ts';
import { run, type RunResult } from '../chart/helm.ts';
import { kubeWriter } from '../../src/kube/writers.ts';
import { planNode } from '../../src/plan/plan-node.ts';
import { policy as examplePolicy } from '../plan/fixtures.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const namespace = 'nodeqos-system';
const controllerSA = `system:serviceaccount:${namespace}:nodeqos-controller`;
const agentSA = `system:serviceaccount:${namespace}:nodeqos-agent`;

describe.runIf(realApiserverPlan().run)('kubectl and helm against a real kube-apiserver', () => {
  const api = useRealApiserver();
  const tools = ensureChartTools();
  let scratch: string;
  let controller: RunningController | undefined;

  const kubectl = (...args: string[]): RunResult =>
    run(tools.kubectl, ['--kubeconfig', api().kubeconfigPath, ...args], repoRoot);
  const kubectlAsync = (...args: string[]): Promise<RunResult> =>
    runAsync(tools.kubectl, ['--kubeconfig', api().kubeconfigPath, ...args], repoRoot);
  const helm = (...args: string[]): RunResult =>
    run(tools.helm, ['--kubeconfig', api().kubeconfigPath, ...args], repoRoot);
  const ok = (result: RunResult): string => {
    expect(result.stderr.replace(/^Warning: .*\n?/gm, '')).toBe('');
    expect(result.code).toBe(0);
    return result.stdout;
  };
  const file = (name: string, text: string): string => {
    const path = join(scratch, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'nodeqos-kubectl-'));
  });

  afterAll(async () => {
    await controller?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('kubectl apply (client-side, default validation) creates the example policies; get prints the printer columns', () => {
    expect(ok(kubectl('apply', '-f', 'examples/policies/'))).toMatch(
      /nodeqospolicy.nodeqos.io\/latency-critical created/,
    );
    const table = ok(kubectl('get', 'nqp'));
    expect(table.split('\n')[0]).toMatch(/^NAME\s+PRIORITY\s+MATCHED\s+READY\s+AGE$/);
    expect(table).toMatch(/^latency-critical\s+100\s+/m);
    expect(ok(kubectl('get', 'nqp', '-o', 'wide')).split('\n')[0]).toMatch(
      /^NAME\s+PRIORITY\s+MATCHED\s+READY\s+STATUS\s+AGE$/,
    );
  });

  it('validation: an unknown field is refused by the strict default, a broken CEL rule names the field', () => {
    const unknown = file(
      'unknown.yaml',
      'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: unknown-field}\nspec: {priorty: 3}\n',
    );
    const refused = kubectl('apply', '-f', unknown);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "spec.priorty"/);
    const cel = file(
      'cel.yaml',
      'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: bad-ratio}\nspec:\n  classes:\n    LS: {memory: {minRatio: 0.9, lowRatio: 0.5}}\n',
    );
    const invalid = kubectl('apply', '-f', cel);
    expect(invalid.code).not.toBe(0);
    // kubectl rewrites the server's `NodeQoSPolicy.nodeqos.io "bad-ratio" is invalid` prefix.
    expect(invalid.stderr).toMatch(
      /The NodeQoSPolicy "bad-ratio" is invalid: spec.classes.LS.memory.minRatio: Invalid value: minRatio must be <= lowRatio/,
    );
  });

  it('kubectl apply --server-side takes over and changes a policy; explain documents the schema', () => {
    const changed = file(
      'general.yaml',
      'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: general-colocation}\nspec: {priority: 7}\n',
    );
    const applied = kubectl('apply', '--server-side', '--force-conflicts', '-f', changed);
    expect(applied.stdout).toMatch(/nodeqospolicy.nodeqos.io\/general-colocation serverside-applied/);
    expect(applied.code).toBe(0);
    expect(ok(kubectl('get', 'nqp', 'general-colocation', '-o', 'jsonpath={.spec.priority}'))).toBe('7');
    const explained = ok(kubectl('explain', 'nqp.spec.priority'));
    expect(explained).toMatch(/KIND:\s+NodeQoSPolicy/);
    expect(explained).toMatch(/FIELD: priority <integer>/);
  });

  it('kubectl wait --for=condition=Ready sees the controller mark a policy Ready; delete removes it', async () => {
    await new TestCluster(api().kubeConfig()).node('wait-node', { 'nodeqos.io/profile': 'latency-critical' });
    controller = runController({
      kubeConfig: api().kubeConfig(),
      logger: pino({ level: 'silent' }),
      identity: 'kubectl-test',
      debounceMs: 20,
    });
    // Asynchronously: the controller runs in this process, and spawnSync would stop its event loop.
    ok(await kubectlAsync('wait', '--for=condition=Ready', 'nqp/latency-critical', '--timeout=40s'));
    const plans = ok(kubectl('get', 'nip'));
    expect(plans.split('\n')[0]).toMatch(/^NAME\s+POLICY\s+PODS\s+BE-QUOTA\s+PRESSURE\s+APPLIED\s+AGE$/);
    expect(plans).toMatch(/^wait-node\s+latency-critical\s+0\s+/m);
    expect(ok(kubectl('delete', '-f', 'examples/policies/'))).toMatch(/deleted/);
    ok(kubectl('wait', '--for=delete', 'nqp/latency-critical', '--timeout=30s'));
    await controller.stop();
    controller = undefined;
    ok(kubectl('delete', 'node', 'wait-node'));
  }, 90_000);

  it('helm installs charts/nodeqos (objects accepted), upgrades and uninstalls it', () => {
    ok(helm('install', 'nodeqos', 'charts/nodeqos', '--namespace', namespace, '--create-namespace'));
    const objects = ok(
      kubectl(
        'get',
        'deployment,daemonset,serviceaccount,service,role,rolebinding,pdb',
        '-n',
        namespace,
        '-o',
        'name',
      ),
    );
    for (const name of [
      'deployment.apps/nodeqos-controller',
      'daemonset.apps/nodeqos-agent',
      'serviceaccount/nodeqos-controller',
      'serviceaccount/nodeqos-agent',
      'role.rbac.authorization.k8s.io/nodeqos-controller-leader-election',
    ])
      expect(objects).toContain(name);
    expect(ok(kubectl('get', 'clusterrole', 'nodeqos-agent', 'nodeqos-controller', '-o', 'name'))).toContain(
      'clusterrole.rbac.authorization.k8s.io/nodeqos-agent',
    );
    ok(
      helm(
        'upgrade',
        'nodeqos',
        'charts/nodeqos',
        '--namespace',
        namespace,
        '--set',
        'controller.replicas=3',
      ),
    );
    expect(
      ok(
        kubectl(
          'get',
          'deployment',
          'nodeqos-controller',
          '-n',
          namespace,
          '-o',
          'jsonpath={.spec.replicas}',
        ),
      ),
    ).toBe('3');
    expect(ok(helm('history', 'nodeqos', '--namespace', namespace))).toMatch(/^2\s.*deployed\s+nodeqos/m);
  });

  describe('chart RBAC, impersonating its ServiceAccounts', () => {
    const can = (as: string, ...args: string[]): boolean => {
      const result = kubectl('auth', 'can-i', '--as', as, ...args);
      if (result.code !== 0 && result.stdout.trim() !== 'no') throw new Error(result.stderr);
      return result.stdout.trim() === 'yes';
    };

    it('the controller can do exactly what it needs', () => {
      const allowed = [
        ['list', 'nodeqospolicies.nodeqos.io'],
        ['watch', 'nodeqospolicies.nodeqos.io'],
        ['patch', 'nodeqospolicies.nodeqos.io', '--subresource=status'],
        ['create', 'nodeisolationplans.nodeqos.io'],
        ['patch', 'nodeisolationplans.nodeqos.io'],
        ['delete', 'nodeisolationplans.nodeqos.io'],
        ['list', 'nodes'],
        ['watch', 'pods', '--all-namespaces'],
        ['create', 'events', '-n', 'default'],
        ['create', 'leases.coordination.k8s.io', '-n', namespace],
        ['update', 'leases.coordination.k8s.io/nodeqos-controller', '-n', namespace],
      ];
      const denied = [
        ['patch', 'nodeqospolicies.nodeqos.io'], // the spec belongs to the policy's authors
        ['delete', 'nodeqospolicies.nodeqos.io'],
        ['patch', 'nodeisolationplans.nodeqos.io', '--subresource=status'], // the agents' report
        ['update', 'nodes'],
        ['delete', 'pods', '-n', 'default'],
        ['update', 'leases.coordination.k8s.io/someone-elses-lease', '-n', namespace],
        ['get', 'secrets', '-n', namespace],
        ['create', 'events.events.k8s.io', '-n', 'default'], // the recorder posts core v1 events only
        ['patch', 'events', '-n', 'default'],
      ];
      for (const args of allowed) expect(can(controllerSA, ...args), args.join(' ')).toBe(true);
      for (const args of denied) expect(can(controllerSA, ...args), args.join(' ')).toBe(false);
    });

    it('the agent can read plans and pods, patch plan and Node status and evict pods, nothing else', () => {
      const allowed = [
        ['get', 'nodeisolationplans.nodeqos.io'],
        ['watch', 'nodeisolationplans.nodeqos.io'],
        ['patch', 'nodeisolationplans.nodeqos.io', '--subresource=status'],
        ['list', 'pods', '--all-namespaces'],
        // BE eviction and Node conditions; the admission policy narrows both to the agent's own node.
        ['create', 'pods', '--subresource=eviction', '-n', 'default'],
        ['patch', 'nodes', '--subresource=status'],
      ];
      const denied = [
        ['create', 'nodeisolationplans.nodeqos.io'],
        ['patch', 'nodeisolationplans.nodeqos.io'],
        ['delete', 'nodeisolationplans.nodeqos.io'],
        ['get', 'nodeqospolicies.nodeqos.io'],
        ['get', 'pods/log', '-n', 'default'],
        ['update', 'pods/status', '-n', 'default'],
        ['delete', 'pods', '-n', 'default'],
        ['patch', 'nodes'],
        ['list', 'secrets', '--all-namespaces'],
      ];
      for (const args of allowed) expect(can(agentSA, ...args), args.join(' ')).toBe(true);
      for (const args of denied) expect(can(agentSA, ...args), args.join(' ')).toBe(false);
    });

    it("real requests as the SAs: the agent's spec patch is Forbidden by RBAC, a status patch without a node name by the chart's admission policy", async () => {
      const cluster = new TestCluster(api().kubeConfig());
      const plan = planNode({
        policy: examplePolicy(),
        node: {
          metadata: { name: 'node-b' },
          status: { capacity: { cpu: '4', memory: '8Gi' }, allocatable: { cpu: '4', memory: '8Gi' } },
        },
        pods: [],
      });
      await kubeWriter(cluster.http).applyPlan(plan);
      // Raw PATCH requests as the agents and the controller send them, impersonating the chart's ServiceAccounts
      // (kubectl patch would GET nodeisolationplans/status first, which the agent is not granted: it never reads it).
      const as = (user: string, path: string, body: unknown): Promise<RawResponse> =>
        raw.request('PATCH', path, {
          body,
          contentType: 'application/merge-patch+json',
          headers: { 'impersonate-user': user },
        });
      const raw = new RawClient(api().kubeConfig());
      const plans = '/apis/nodeqos.io/v1alpha1/nodeisolationplans';
      // RBAC grants nodeisolationplans/status cluster-wide; the chart's admission policy then refuses every write
      // from the agent's ServiceAccount that carries no node name (impersonation carries none), so even this
      // cluster-admin-impersonated agent cannot write a plan status. test/security/agent-admission.test.ts
      // shows the allowed and denied cases with real pod-bound tokens.
      // A policy takes effect a moment after helm created it.
      const status = await eventually(async () => {
        const response = await as(agentSA, `${plans}/node-b/status`, { status: { pressure: 12 } });
        expect(response.status, response.text).toBe(403);
        return response;
      }, 30_000);
      expect((status.json as { message: string }).message).toMatch(
        /ValidatingAdmissionPolicy 'nodeqos-agent-plan-status'.*must carry the node name of a pod-bound token/,
      );
      const spec = await as(agentSA, `${plans}/node-b`, { spec: { podCount: 5 } });
      expect(spec.status).toBe(403);
      expect((spec.json as { message: string }).message).toMatch(
        /User "system:serviceaccount:nodeqos-system:nodeqos-agent" cannot patch resource "nodeisolationplans"/,
      );
      const policy = await as(controllerSA, '/apis/nodeqos.io/v1alpha1/nodeqospolicies/x', {
        spec: { priority: 1 },
      });
      expect(policy.status).toBe(403);
      const policyStatus = await as(controllerSA, '/apis/nodeqos.io/v1alpha1/nodeqospolicies/x/status', {
        status: {},
      });
      expect(policyStatus.status).toBe(404); // allowed by RBAC; the policy does not exist
      ok(kubectl('delete', 'nip', 'node-b'));
    });

    it('helm uninstall removes the release', () => {
      ok(helm('uninstall', 'nodeqos', '--namespace', namespace));
      expect(kubectl('get', 'deployment', 'nodeqos-controller', '-n', namespace).stderr).toMatch(/NotFound/);
    });
  });
});
