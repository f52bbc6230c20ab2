// charts/nodeqos rendered by the real helm binary: lint, schema, Kubernetes validation, security and RBAC, for the
// default values and for every combination of the feature toggles values.schema.json lists.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { chartDir, findManifest, helm, helmTemplate, renderChart, repoRoot, type Manifest } from './helm.ts';
import { validateManifest } from './k8s-validate.ts';
import {
  allContainers,
  podSpecOf,
  restrictedViolations,
  workloadKinds,
  type PodSpec,
} from './pod-security.ts';
import { broadGrants, grants, roleKinds } from './rbac.ts';

const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as {
  properties: { features: { properties: Record<string, { type: string; description: string }> } };
};
const featureNames = Object.keys(schema.properties.features.properties);
const serviceMonitorApi = 'monitoring.coreos.com/v1/ServiceMonitor';

type Features = Record<string, boolean>;

function combinations(names: readonly string[]): Features[] {
  return Array.from({ length: 2 ** names.length }, (_, mask) =>
    Object.fromEntries(names.map((name, bit) => [name, (mask & (1 << bit)) !== 0])),
  );
}

function label(features: Features): string {
  const on = Object.entries(features).filter(([, v]) => v);
  return on.length === 0 ? 'all off' : on.map(([k]) => k).join('+');
}

/** Values for one combination; one controller replica when leader election is off (two would be refused). */
function valuesFor(features: Features): Record<string, unknown> {
  return { features, controller: { replicas: features.leaderElection ? 2 : 1 } };
}

function render(features: Features): Manifest[] {
  return renderChart({
    values: valuesFor(features),
    includeCrds: true,
    apiVersions: features.serviceMonitor ? [serviceMonitorApi] : [],
  });
}

function controllerPod(manifests: readonly Manifest[]): PodSpec {
  return podSpecOf(findManifest(manifests, 'Deployment', '-controller'));
}

function agentPod(manifests: readonly Manifest[]): PodSpec {
  return podSpecOf(findManifest(manifests, 'DaemonSet', '-agent'));
}

function argsOf(pod: PodSpec): string[] {
  return pod.containers[0]?.args ?? [];
}

const controllerGrants = [
  'core/events create',
  'core/nodes get',
  'core/nodes list',
  'core/nodes watch',
  'core/pods get',
  'core/pods list',
  'core/pods watch',
  'nodeqos.io/nodeisolationplans create',
  'nodeqos.io/nodeisolationplans delete',
  'nodeqos.io/nodeisolationplans get',
  'nodeqos.io/nodeisolationplans list',
  'nodeqos.io/nodeisolationplans patch',
  'nodeqos.io/nodeisolationplans watch',
  'nodeqos.io/nodeqospolicies get',
  'nodeqos.io/nodeqospolicies list',
  'nodeqos.io/nodeqospolicies watch',
  'nodeqos.io/nodeqospolicies/status patch',
];

const agentGrants = [
  'core/events create',
  'core/nodes get',
  'core/nodes/status patch',
  'core/pods list',
  'core/pods watch',
  'core/pods/eviction create',
  'nodeqos.io/nodeisolationplans get',
  'nodeqos.io/nodeisolationplans list',
  'nodeqos.io/nodeisolationplans watch',
  'nodeqos.io/nodeisolationplans/status patch',
];

describe('chart metadata', () => {
  test('helm lint --strict passes with the defaults and with every feature on', () => {
    const lint = helm(['lint', '--strict', chartDir]);
    expect(lint.stdout + lint.stderr).toContain('0 chart(s) failed');
    expect(lint.code).toBe(0);
    // helm lint has no --api-versions, so the ServiceMonitor guard would (rightly) refuse that one feature.
    const all = featureNames
      .filter(name => name !== 'serviceMonitor')
      .flatMap(name => ['--set', `features.${name}=true`]);
    const lintAll = helm(['lint', '--strict', chartDir, ...all]);
    expect(lintAll.code, lintAll.stdout + lintAll.stderr).toBe(0);
  });

  test('values.schema.json rejects unknown and ill-typed values', () => {
    const unknown = helmTemplate({ values: { controller: { replica: 3 } } });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("'replica' not allowed");
    const illTyped = helmTemplate({ values: { features: { networkQoS: 'yes' } } });
    expect(illTyped.code).not.toBe(0);
    expect(illTyped.stderr).toMatch(/networkQoS/);
  });

  test('features: values.yaml and the schema list the same toggles, each boolean, each naming its privilege', () => {
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { features: Features };
    expect(Object.keys(values.features).sort()).toEqual([...featureNames].sort());
    expect(featureNames.length).toBeGreaterThanOrEqual(5);
    for (const [name, property] of Object.entries(schema.properties.features.properties)) {
      expect(property.type, name).toBe('boolean');
      expect(property.description, name).toMatch(/Privilege: /);
    }
  });

  test("the chart's CRDs are the generated ones in crds/", () => {
    const generated = readdirSync(join(repoRoot, 'crds')).sort();
    expect(readdirSync(join(chartDir, 'crds')).sort()).toEqual(generated);
    const rendered = renderChart({ includeCrds: true }).filter(m => m.kind === 'CustomResourceDefinition');
    const expected = generated.map(f => parse(readFileSync(join(repoRoot, 'crds', f), 'utf8')) as Manifest);
    expect(rendered).toEqual(expect.arrayContaining(expected));
    expect(rendered).toHaveLength(expected.length);
  });
});

describe('default values', () => {
  let manifests: Manifest[];
  beforeAll(() => {
    manifests = renderChart({ includeCrds: true });
  });

  test('every manifest is valid Kubernetes (schema and no unknown fields)', () => {
    expect(manifests.length).toBeGreaterThan(10);
    expect(manifests.flatMap(validateManifest)).toEqual([]);
  });

  test('controller: 2 replicas, leader election, PDB minAvailable 1, restricted Pod Security', () => {
    const deployment = findManifest(manifests, 'Deployment', '-controller');
    expect((deployment.spec as { replicas: number }).replicas).toBe(2);
    const pod = controllerPod(manifests);
    expect(restrictedViolations(pod)).toEqual([]);
    expect(argsOf(pod)).toEqual(
      expect.arrayContaining([
        'controller',
        '--leader-elect',
        '--lease-namespace=nodeqos-system',
        '--topology-replan-interval=30',
      ]),
    );
    const pdb = findManifest(manifests, 'PodDisruptionBudget', '-controller');
    expect(pdb.spec).toMatchObject({ minAvailable: 1 });
    expect(pod.containers[0]?.env?.map(e => e.name)).toContain('POD_NAME');
  });

  test('both components are probed on /healthz (liveness) and /readyz (readiness) of the metrics port', () => {
    for (const pod of [controllerPod(manifests), agentPod(manifests)]) {
      const container = pod.containers[0] as unknown as Record<
        string,
        { httpGet: { path: string; port: string } }
      >;
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    }
  });

  test('agent: only the host access and capabilities it needs', () => {
    const pod = agentPod(manifests);
    const [agent] = pod.containers;
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.hostPID).toBe(true);
    expect(pod.hostIPC).toBeUndefined();
    expect(agent?.securityContext).toMatchObject({
      runAsUser: 0,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      seccompProfile: { type: 'RuntimeDefault' },
      capabilities: { drop: ['ALL'], add: ['DAC_OVERRIDE', 'SYS_RESOURCE'] },
    });
    // Only the kubepods cgroup of the unified tree, not the whole cgroup filesystem (docs/decisions/0147).
    const hostPaths = (pod.volumes ?? []).filter(v => v.hostPath).map(v => v.hostPath?.path);
    expect(hostPaths.sort()).toEqual(['/sys/fs/cgroup/kubepods.slice', '/var/lib/nodeqos']);
    expect(agent?.volumeMounts?.map(m => m.mountPath).sort()).toEqual([
      '/host/sys/fs/cgroup/kubepods.slice',
      '/tmp',
      '/var/lib/nodeqos',
    ]);
    expect(argsOf(pod)).toEqual(
      expect.arrayContaining(['agent', '--node-name=$(NODE_NAME)', '--cgroup-root=/host/sys/fs/cgroup']),
    );
    expect(argsOf(pod)).not.toContain('--network-qos');
  });

  test('agent: scheduled on every node, first to stay, rolled out node by node', () => {
    const daemonSet = findManifest(manifests, 'DaemonSet', '-agent');
    const pod = agentPod(manifests);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(daemonSet.spec).toMatchObject({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    });
  });

  test('RBAC: exactly the grants each component needs, no wildcard anywhere', () => {
    const roles = manifests.filter(m => roleKinds.has(m.kind));
    expect(roles.flatMap(broadGrants)).toEqual([]);
    expect(grants(findManifest(manifests, 'ClusterRole', '-controller'))).toEqual(controllerGrants);
    expect(grants(findManifest(manifests, 'ClusterRole', '-agent'))).toEqual(agentGrants);
    expect(grants(findManifest(manifests, 'Role', '-leader-election'))).toEqual([
      'coordination.k8s.io/leases create',
      'coordination.k8s.io/leases[nodeqos-controller] get',
      'coordination.k8s.io/leases[nodeqos-controller] update',
    ]);
    expect(manifests.filter(m => roleKinds.has(m.kind)).map(m => m.kind)).toEqual([
      'ClusterRole',
      'ClusterRole',
      'Role',
    ]);
  });

  test('ServiceAccounts: tokens only where a pod asks for them; bindings point at them', () => {
    for (const account of manifests.filter(m => m.kind === 'ServiceAccount')) {
      expect(account.automountServiceAccountToken).toBe(false);
    }
    // Role bindings (admission policy bindings have no subjects).
    for (const binding of manifests.filter(m => m.kind.endsWith('RoleBinding'))) {
      const [subject] = binding.subjects as { name: string; namespace: string }[];
      expect(manifests.some(m => m.kind === 'ServiceAccount' && m.metadata.name === subject?.name)).toBe(
        true,
      );
      expect(subject?.namespace).toBe('nodeqos-system');
    }
  });
});

describe('feature toggles', () => {
  test.each(combinations(featureNames).map(f => [label(f), f] as const))('%s', (_, features) => {
    const manifests = render(features);
    expect(manifests.flatMap(validateManifest)).toEqual([]);
    expect(manifests.filter(m => roleKinds.has(m.kind)).flatMap(broadGrants)).toEqual([]);
    const workloads = manifests.filter(m => workloadKinds.has(m.kind));
    const privileged = workloads.filter(m =>
      allContainers(podSpecOf(m)).some(c => c.securityContext?.privileged === true),
    );
    expect(privileged).toEqual([]);
    for (const workload of workloads.filter(m => !m.metadata.name.endsWith('-agent'))) {
      expect(restrictedViolations(podSpecOf(workload)), workload.metadata.name).toEqual([]);
    }

    const agent = agentPod(manifests);
    const caps = agent.containers[0]?.securityContext?.capabilities?.add ?? [];
    expect(caps.includes('NET_ADMIN')).toBe(features.networkQoS);
    expect(agent.hostNetwork === true).toBe(features.networkQoS);
    expect(argsOf(agent).includes('--network-qos')).toBe(features.networkQoS);

    const controller = controllerPod(manifests);
    expect(argsOf(controller).includes('--leader-elect')).toBe(features.leaderElection);
    expect(manifests.some(m => m.kind === 'Role')).toBe(features.leaderElection);
    const pdbExpected = features.podDisruptionBudget === true && features.leaderElection === true;
    expect(manifests.some(m => m.kind === 'PodDisruptionBudget')).toBe(pdbExpected);
    const monitors = manifests.filter(m => m.kind === 'ServiceMonitor');
    expect(monitors).toHaveLength(features.serviceMonitor ? 2 : 0);
    const agentMonitor = monitors.find(m => m.metadata.name.endsWith('-agent'));
    if (agentMonitor) {
      // docs/metrics.md: the dashboard's node label and the per-pod namespace/pod labels come from these.
      expect(agentMonitor.spec).toMatchObject({
        endpoints: [
          {
            port: 'metrics',
            honorLabels: true,
            relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
          },
        ],
      });
    }
    const dashboard = manifests.find(m => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-dashboard'));
    expect(dashboard !== undefined).toBe(features.grafanaDashboard);
    if (dashboard) {
      const json = (dashboard.data as Record<string, string>)['nodeqos.json'] ?? '';
      expect(JSON.parse(json)).toEqual(
        JSON.parse(readFileSync(join(chartDir, 'dashboards', 'nodeqos.json'), 'utf8')),
      );
    }
  });
});

describe('NOTES.txt', () => {
  function notes(values: readonly string[]): string {
    // --dry-run=client renders offline; the kubeconfig points nowhere so no cluster is ever contacted.
    const result = helm([
      'install',
      'nodeqos',
      chartDir,
      '-n',
      'nodeqos-system',
      '--dry-run=client',
      '--kubeconfig',
      join(tmpdir(), 'nodeqos-no-kubeconfig'),
      ...values.flatMap(v => ['--set', v]),
    ]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.slice(result.stdout.indexOf('NOTES:'));
  }

  test('tell how to label the namespace and what the agent is granted', () => {
    const text = notes([]);
    expect(text).toContain(
      'kubectl label namespace nodeqos-system pod-security.kubernetes.io/enforce=privileged',
    );
    expect(text).toContain('CAP_DAC_OVERRIDE + CAP_SYS_RESOURCE.');
    expect(text).not.toContain('CAP_NET_ADMIN');
    expect(notes(['features.networkQoS=true'])).toContain('hostNetwork and CAP_NET_ADMIN');
  });

  test('say when a PodDisruptionBudget was left out', () => {
    expect(notes(['controller.replicas=1'])).toContain('no PodDisruptionBudget was');
    expect(notes([])).not.toContain('no PodDisruptionBudget was');
  });
});

describe('guards', () => {
  test('two controller replicas without leader election are refused', () => {
    const result = helmTemplate({ values: { features: { leaderElection: false } } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('controller.replicas > 1 needs features.leaderElection=true');
  });

  test('a ServiceMonitor without the prometheus-operator API is refused with a way out', () => {
    const result = helmTemplate({ values: { features: { serviceMonitor: true } } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--api-versions monitoring.coreos.com/v1/ServiceMonitor');
  });

  test('one controller replica gets no PodDisruptionBudget (it would block drains)', () => {
    const manifests = renderChart({ values: { controller: { replicas: 1 } } });
    expect(manifests.some(m => m.kind === 'PodDisruptionBudget')).toBe(false);
  });

  test('an image digest wins over the tag', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const manifests = renderChart({ values: { image: { repository: 'registry.example/nodeqos', digest } } });
    expect(controllerPod(manifests).containers[0]?.image).toBe(`registry.example/nodeqos@${digest}`);
    expect(agentPod(manifests).containers[0]?.image).toBe(`registry.example/nodeqos@${digest}`);
    expect(helmTemplate({ values: { image: { digest: 'sha256:short' } } }).code).not.toBe(0);
  });

  test('agent.privileged is the explicit escape hatch, and still valid Kubernetes', () => {
    const manifests = renderChart({
      values: { agent: { privileged: true, seLinuxOptions: { type: 'spc_t' } } },
    });
    expect(manifests.flatMap(validateManifest)).toEqual([]);
    const sc = agentPod(manifests).containers[0]?.securityContext;
    expect(sc?.privileged).toBe(true);
    expect(sc?.allowPrivilegeEscalation).toBeUndefined();
    expect(restrictedViolations(controllerPod(manifests))).toEqual([]);
  });

  test('the checks catch a wildcard rule added to the chart, and a weakened controller', () => {
    const copy = mkdtempSync(join(tmpdir(), 'nodeqos-chart-copy-'));
    try {
      cpSync(chartDir, copy, { recursive: true });
      const rbac = join(copy, 'templates', 'rbac-agent.yaml');
      const text = readFileSync(rbac, 'utf8');
      const widened = text.replace(
        '    verbs: [list, watch]\n',
        "    verbs: [list, watch]\n  - apiGroups: ['']\n    resources: ['*']\n    verbs: ['*']\n",
      );
      expect(widened).not.toBe(text);
      writeFileSync(rbac, widened);
      const manifests = renderChart({
        chart: copy,
        values: {
          controller: {
            securityContext: {
              allowPrivilegeEscalation: null,
              capabilities: { drop: null, add: ['SYS_ADMIN'] },
            },
          },
        },
      });
      expect(manifests.filter(m => roleKinds.has(m.kind)).flatMap(broadGrants)).toEqual([
        'ClusterRole/nodeqos-agent: rules[3].resources has "*"',
        'ClusterRole/nodeqos-agent: rules[3].verbs has "*"',
      ]);
      expect(restrictedViolations(controllerPod(manifests))).toEqual(
        expect.arrayContaining([
          'container controller: allowPrivilegeEscalation is not false',
          'container controller: capabilities do not drop ALL',
          'container controller: adds capabilities SYS_ADMIN',
        ]),
      );
      expect(restrictedViolations(agentPod(manifests))).toEqual(
        expect.arrayContaining([
          'hostPID',
          'volume host-cgroup-kubepods: hostPath',
          'container agent: runAsUser is 0',
        ]),
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('agent cgroup mounts and own-node admission policies', () => {
  const hostPaths = (manifests: readonly Manifest[]): (string | undefined)[] =>
    (agentPod(manifests).volumes ?? [])
      .filter(v => v.hostPath && v.name.startsWith('host-cgroup'))
      .map(v => v.hostPath?.path);

  test('cgroup v1: only the kubepods cgroup of cpu, cpuset, memory and blkio; never devices, pids or freezer', () => {
    const manifests = renderChart({ values: { agent: { cgroupVersion: 'v1', cgroupDriver: 'cgroupfs' } } });
    expect(hostPaths(manifests)).toEqual([
      '/sys/fs/cgroup/cpu/kubepods',
      '/sys/fs/cgroup/cpuset/kubepods',
      '/sys/fs/cgroup/memory/kubepods',
      '/sys/fs/cgroup/blkio/kubepods',
    ]);
    expect(argsOf(agentPod(manifests))).toEqual(
      expect.arrayContaining(['--cgroup-version=v1', '--cgroup-driver=cgroupfs']),
    );
  });

  test('cgroupMounts=all mounts the whole tree (for auto detection); kubepods with auto is refused with the fix', () => {
    const all = renderChart({
      values: { agent: { cgroupMounts: 'all', cgroupVersion: 'auto', cgroupDriver: 'auto' } },
    });
    expect(hostPaths(all)).toEqual(['/sys/fs/cgroup']);
    const refused = helmTemplate({ values: { agent: { cgroupDriver: 'auto' } } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /agent.cgroupMounts=kubepods .* needs agent.cgroupVersion .* or set agent.cgroupMounts=all/,
    );
  });

  test('three ValidatingAdmissionPolicies with Deny bindings match only the agent ServiceAccount; off with restrictToOwnNode=false', () => {
    const manifests = renderChart();
    const policies = manifests.filter(m => m.kind === 'ValidatingAdmissionPolicy');
    expect(policies.map(p => p.metadata.name)).toEqual([
      'nodeqos-agent-plan-status',
      'nodeqos-agent-node-status',
      'nodeqos-agent-eviction',
    ]);
    for (const policy of policies) {
      const spec = policy.spec as { failurePolicy: string; matchConditions: { expression: string }[] };
      expect(spec.failurePolicy).toBe('Fail');
      expect(spec.matchConditions.map(c => c.expression)).toEqual([
        "request.userInfo.username == 'system:serviceaccount:nodeqos-system:nodeqos-agent'",
      ]);
    }
    const bindings = manifests.filter(m => m.kind === 'ValidatingAdmissionPolicyBinding');
    expect(bindings.map(b => (b.spec as { validationActions: string[] }).validationActions)).toEqual([
      ['Deny'],
      ['Deny'],
      ['Deny'],
    ]);
    const off = renderChart({ values: { agent: { restrictToOwnNode: false } } });
    expect(off.filter(m => m.kind.startsWith('ValidatingAdmissionPolicy'))).toEqual([]);
  });
});
