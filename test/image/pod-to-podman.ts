// Turns one container of a pod spec that `helm template` rendered into the `podman run` arguments that give the
// container what kubelet would: user, capabilities, read-only root, no privilege escalation, host PID and
// network namespaces, hostPath and emptyDir mounts, env (with fieldRef values supplied by the caller), the
// memory limit, and the args with kubelet's $(VAR) expansion. The image's entrypoint is used, as the chart
// sets no command. Anything in the spec this translation does not understand is an error, so a new chart
// setting cannot silently go untested.

export interface K8sContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: SecurityContext;
  resources?: { limits?: { memory?: string } };
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
  seLinuxOptions?: Record<string, string>;
}

export interface K8sPodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  securityContext?: SecurityContext;
  containers: K8sContainer[];
  volumes?: { name: string; hostPath?: { path: string }; emptyDir?: { sizeLimit?: string } }[];
}

export interface Translation {
  /** Everything between `podman run` and the image. */
  readonly options: string[];
  readonly image: string;
  /** The container's args after $(VAR) expansion: the command line after the image's entrypoint. */
  readonly args: string[];
}

export interface TranslateOptions {
  /** Values of the fieldRef env vars (spec.nodeName, metadata.name, metadata.namespace). */
  readonly fieldRefs: Readonly<Record<string, string>>;
  /** hostPath volume name -> the host directory to use instead (e.g. a temporary state dir). */
  readonly hostPathOverrides?: Readonly<Record<string, string>>;
}

function quantityToPodman(quantity: string): string {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) throw new Error(`memory limit ${quantity}: not a plain binary quantity`);
  const unit = { Ki: 'k', Mi: 'm', Gi: 'g' }[match[2] ?? ''] ?? '';
  return `${match[1]}${unit}`;
}

/** kubelet's $(VAR) expansion of args from the container's env; $$(VAR) escapes. */
function expand(arg: string, env: Readonly<Record<string, string>>): string {
  return arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) =>
    name === undefined ? '$' : (env[name] ?? whole),
  );
}

function userArgs(sc: SecurityContext): string[] {
  if (sc.runAsUser === undefined) throw new Error('the chart leaves the user to the image');
  if (sc.runAsNonRoot === true && sc.runAsUser === 0) throw new Error('runAsNonRoot with runAsUser 0');
  return ['--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`];
}

function capabilityArgs(sc: SecurityContext): string[] {
  return [
    ...(sc.capabilities?.drop ?? []).flatMap(cap => ['--cap-drop', cap.toLowerCase()]),
    ...(sc.capabilities?.add ?? []).flatMap(cap => ['--cap-add', cap.toLowerCase()]),
  ];
}

function confinementArgs(sc: SecurityContext): string[] {
  const out: string[] = [];
  // RuntimeDefault is the runtime's default profile: podman's own (/usr/share/containers/seccomp.json).
  const seccomp = sc.seccompProfile?.type ?? 'RuntimeDefault';
  if (seccomp === 'Unconfined') out.push('--security-opt', 'seccomp=unconfined');
  else if (seccomp !== 'RuntimeDefault') throw new Error(`seccomp profile ${seccomp} is not translated`);
  if (Object.keys(sc.seLinuxOptions ?? {}).length > 0)
    throw new Error('seLinuxOptions are not translated (this machine has no SELinux)');
  return out;
}

function securityArgs(sc: SecurityContext): string[] {
  const out = userArgs(sc);
  // podman's --read-only would add tmpfs at /tmp, /var/tmp and /run; kubelet adds none.
  if (sc.readOnlyRootFilesystem === true) out.push('--read-only', '--read-only-tmpfs=false');
  if (sc.privileged === true) out.push('--privileged');
  if (sc.allowPrivilegeEscalation === false) out.push('--security-opt', 'no-new-privileges');
  return [...out, ...capabilityArgs(sc), ...confinementArgs(sc)];
}

function envValues(
  container: K8sContainer,
  fieldRefs: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    const value = e.value ?? (path === undefined ? undefined : fieldRefs[path]);
    if (value === undefined) throw new Error(`env ${e.name}: no value for ${path ?? 'valueFrom'}`);
    env[e.name] = value;
  }
  return env;
}

function mountArgs(
  pod: K8sPodSpec,
  container: K8sContainer,
  overrides: Readonly<Record<string, string>>,
): string[] {
  const out: string[] = [];
  const volumes = new Map((pod.volumes ?? []).map(v => [v.name, v]));
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (volume?.hostPath !== undefined) {
      const source = overrides[mount.name] ?? volume.hostPath.path;
      // rbind: a hostPath of /sys/fs/cgroup brings the per-controller mounts below it, as kubelet's does.
      out.push('--volume', `${source}:${mount.mountPath}:${mount.readOnly === true ? 'ro' : 'rw'},rbind`);
    } else if (volume?.emptyDir !== undefined) {
      const limit = volume.emptyDir.sizeLimit;
      const size = limit === undefined ? '' : `,size=${quantityToPodman(limit)}`;
      out.push('--tmpfs', `${mount.mountPath}:rw,mode=1777${size}`);
    } else {
      throw new Error(`volume ${mount.name}: only hostPath and emptyDir are translated`);
    }
  }
  return out;
}

export function podmanRunFor(pod: K8sPodSpec, containerName: string, options: TranslateOptions): Translation {
  const container = pod.containers.find(c => c.name === containerName);
  if (!container) throw new Error(`no container ${containerName} in the rendered pod`);
  if (container.command !== undefined)
    throw new Error('the chart sets a command; the test runs the entrypoint');
  const out: string[] = [];
  if (pod.hostPID === true) out.push('--pid', 'host');
  if (pod.hostNetwork === true) out.push('--network', 'host');
  out.push(...securityArgs({ ...pod.securityContext, ...container.securityContext }));
  const env = envValues(container, options.fieldRefs);
  for (const [name, value] of Object.entries(env)) out.push('--env', `${name}=${value}`);
  out.push(...mountArgs(pod, container, options.hostPathOverrides ?? {}));
  const memory = container.resources?.limits?.memory;
  if (memory !== undefined) out.push('--memory', quantityToPodman(memory));
  return { options: out, image: container.image, args: (container.args ?? []).map(a => expand(a, env)) };
}
