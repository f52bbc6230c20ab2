// Checks of rendered workloads: the restricted Pod Security Standard (kubernetes.io/docs/concepts/security/
// pod-security-standards, "Restricted" and the "Baseline" controls it includes) plus readOnlyRootFilesystem.
import type { Manifest } from './helm.ts';

export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  windowsOptions?: { hostProcess?: boolean };
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number; hostPort?: number }[];
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  [source: string]: unknown;
}

export interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext & { sysctls?: unknown[] };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  tolerations?: { operator?: string; key?: string; effect?: string }[];
  priorityClassName?: string;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
}

export const workloadKinds = new Set(['Deployment', 'DaemonSet', 'StatefulSet', 'Job', 'ReplicaSet', 'Pod']);

export function podSpecOf(manifest: Manifest): PodSpec {
  const spec = manifest.spec as { template?: { spec: PodSpec } } & PodSpec;
  return manifest.kind === 'Pod' ? spec : spec.template!.spec;
}

export function allContainers(pod: PodSpec): Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

const restrictedVolumeSources = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

function podLevelViolations(pod: PodSpec): string[] {
  const found: string[] = [];
  if (pod.hostNetwork === true) found.push('hostNetwork');
  if (pod.hostPID === true) found.push('hostPID');
  if (pod.hostIPC === true) found.push('hostIPC');
  if ((pod.securityContext?.sysctls ?? []).length > 0) found.push('sysctls');
  for (const volume of pod.volumes ?? []) {
    const sources = Object.keys(volume).filter(k => k !== 'name');
    for (const source of sources) {
      if (!restrictedVolumeSources.has(source)) found.push(`volume ${volume.name}: ${source}`);
    }
  }
  return found;
}

type ContainerCheck = (c: Container, sc: SecurityContext, pod: SecurityContext) => string | undefined;

/** One restricted-profile control per entry: the violation's text, or undefined when the container passes. */
const containerChecks: ContainerCheck[] = [
  (_, sc) => (sc.privileged === true ? 'privileged' : undefined),
  (_, sc) => (sc.windowsOptions?.hostProcess === true ? 'hostProcess' : undefined),
  (_, sc) => (sc.allowPrivilegeEscalation === false ? undefined : 'allowPrivilegeEscalation is not false'),
  (_, sc) => ((sc.capabilities?.drop ?? []).includes('ALL') ? undefined : 'capabilities do not drop ALL'),
  (_, sc) => {
    const added = (sc.capabilities?.add ?? []).filter(cap => cap !== 'NET_BIND_SERVICE');
    return added.length > 0 ? `adds capabilities ${added.join(',')}` : undefined;
  },
  (_, sc, pod) => ((sc.runAsNonRoot ?? pod.runAsNonRoot) === true ? undefined : 'runAsNonRoot is not true'),
  (_, sc, pod) => ((sc.runAsUser ?? pod.runAsUser) === 0 ? 'runAsUser is 0' : undefined),
  (_, sc, pod) => {
    const seccomp = sc.seccompProfile?.type ?? pod.seccompProfile?.type;
    return seccomp === 'RuntimeDefault' || seccomp === 'Localhost'
      ? undefined
      : `seccompProfile is ${seccomp ?? 'unset'}`;
  },
  (_, sc) =>
    sc.procMount === undefined || sc.procMount === 'Default' ? undefined : `procMount ${sc.procMount}`,
  c => ((c.ports ?? []).some(p => p.hostPort !== undefined && p.hostPort !== 0) ? 'hostPort' : undefined),
  (_, sc) => (sc.readOnlyRootFilesystem === true ? undefined : 'readOnlyRootFilesystem is not true'),
];

function containerViolations(pod: PodSpec, c: Container): string[] {
  const sc = c.securityContext ?? {};
  const podSc = pod.securityContext ?? {};
  return containerChecks
    .map(check => check(c, sc, podSc))
    .filter((v): v is string => v !== undefined)
    .map(v => `container ${c.name}: ${v}`);
}

/** Everything in the pod that the restricted Pod Security Standard (plus a read-only root) forbids. */
export function restrictedViolations(pod: PodSpec): string[] {
  return [...podLevelViolations(pod), ...allContainers(pod).flatMap(c => containerViolations(pod, c))];
}
