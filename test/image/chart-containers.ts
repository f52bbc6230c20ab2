// Runs the chart's workloads as podman containers: renders the chart with `helm template`, translates one
// container of the rendered pod (pod-to-podman.ts) and starts it with the kubeconfig a ServiceAccount would
// give it. Remembers every container it started so the test can remove them, even after a failure.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { expect } from 'vitest';
import { helmTemplate, parseManifests, type Manifest } from '../chart/helm.ts';
import { podman, podmanOk, removeContainers, ulimits } from '../support/containers.ts';
import { eventually } from '../support/eventually.ts';
import { podmanRunFor, type K8sContainer, type K8sPodSpec } from './pod-to-podman.ts';

export const kubeconfigInContainer = '/etc/nodeqos/kubeconfig';

export interface StartOptions {
  readonly hostPathOverrides?: Record<string, string>;
  /** spec.nodeName, which the chart passes to the agent as --node-name=$(NODE_NAME). */
  readonly nodeName?: string;
}

export class ChartContainers {
  readonly #started: string[] = [];

  /** What the chart is rendered with. */
  readonly image: string;
  /** Mounted read-only at kubeconfigInContainer. */
  readonly kubeconfigFile: string;

  constructor(image: string, kubeconfigFile: string) {
    this.image = image;
    this.kubeconfigFile = kubeconfigFile;
  }

  /** The rendered pod spec of one workload kind, with the chart values the test needs. */
  renderPod(kind: 'Deployment' | 'DaemonSet', values: Record<string, unknown>): K8sPodSpec {
    const at = this.image.lastIndexOf(':');
    const image = { repository: this.image.slice(0, at), tag: this.image.slice(at + 1) };
    const rendered = helmTemplate({ values: { image, ...values } });
    if (rendered.code !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
    const workload = parseManifests(rendered.stdout).find((m: Manifest) => m.kind === kind) as
      (Manifest & { spec: { template: { spec: K8sPodSpec } } }) | undefined;
    if (!workload) throw new Error(`helm template rendered no ${kind}`);
    return workload.spec.template.spec;
  }

  /** `podman run --detach` of one container of a rendered pod; returns its args after $(VAR) expansion. */
  async start(
    name: string,
    pod: K8sPodSpec,
    containerName: string,
    { hostPathOverrides = {}, nodeName = 'image-node' }: StartOptions = {},
  ): Promise<{ name: string; args: string[] }> {
    const run = podmanRunFor(pod, containerName, {
      fieldRefs: {
        'spec.nodeName': nodeName,
        'metadata.name': `${name}-pod`,
        'metadata.namespace': 'nodeqos-system',
      },
      hostPathOverrides,
    });
    expect(run.image).toBe(this.image);
    this.#started.push(name);
    const kubeconfig = ['--volume', `${this.kubeconfigFile}:${kubeconfigInContainer}:ro`];
    // Host network stands in for the cluster network: the dev server listens on 127.0.0.1 only.
    const network = run.options.includes('--network') ? [] : ['--network', 'host'];
    const options = [...ulimits, ...network, ...kubeconfig, ...run.options];
    await podmanOk(['run', '--detach', '--name', name, ...options, this.image, ...run.args]);
    return { name, args: run.args };
  }

  async removeAll(): Promise<void> {
    await removeContainers(this.#started.splice(0));
  }
}

export async function logs(name: string): Promise<string> {
  const result = await podman(['logs', name]);
  return result.stdout + result.stderr;
}

/** `check` polled until it passes; on failure the error carries the container's log, which says why. */
export async function eventuallyIn<T>(
  container: string,
  check: () => Promise<T>,
  timeoutMs = 60_000,
): Promise<T> {
  try {
    return await eventually(check, timeoutMs, 250);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const log = (await logs(container)).slice(-4000);
    throw new Error(`${message}\n--- podman logs ${container} ---\n${log}`, { cause: error });
  }
}

/** The container's exit code once it has exited, else undefined. */
export async function exitCode(name: string): Promise<number | undefined> {
  const state = await podmanOk(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]);
  const [status, code] = state.split(' ');
  return status === 'exited' ? Number(code) : undefined;
}

/** Mount options of a process's root filesystem, from the host's view of its mountinfo. */
export async function rootMountOptions(pid: number): Promise<string[]> {
  const root = (await readFile(`/proc/${pid}/mountinfo`, 'utf8'))
    .split('\n')
    .find(l => l.split(' ')[4] === '/');
  return root?.split(' ')[5]?.split(',') ?? [];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export type AgentVariant = 'chart' | 'no-dac-override' | 'no-cgroup-mount' | 'no-host-pid' | 'no-state-mount';

/** What each variant takes away from the rendered agent pod; each first asserts the chart had it. */
const takeAway: Record<Exclude<AgentVariant, 'chart'>, (pod: K8sPodSpec, agent: K8sContainer) => void> = {
  'no-dac-override': (_pod, agent) => {
    const caps = agent.securityContext?.capabilities;
    expect(caps?.add).toContain('DAC_OVERRIDE');
    if (caps) caps.add = (caps.add ?? []).filter(c => c !== 'DAC_OVERRIDE');
  },
  'no-cgroup-mount': (_pod, agent) => {
    // The kubepods cgroup of each hierarchy (agent.cgroupMounts=kubepods): all of them taken away.
    const cgroupMount = (name: string): boolean => name.startsWith('host-cgroup-');
    expect(agent.volumeMounts?.filter(m => cgroupMount(m.name)).length).toBeGreaterThan(0);
    agent.volumeMounts = agent.volumeMounts?.filter(m => !cgroupMount(m.name));
  },
  'no-state-mount': (_pod, agent) => {
    expect(agent.volumeMounts?.map(m => m.name)).toContain('state');
    agent.volumeMounts = agent.volumeMounts?.filter(m => m.name !== 'state');
  },
  'no-host-pid': pod => {
    expect(pod.hostPID).toBe(true);
    pod.hostPID = false;
  },
};

/** The chart's agent pod for a kubepods tree, minus what the variant takes away. */
export function agentPod(
  chart: ChartContainers,
  kubepods: string,
  metricsPort: number,
  variant: AgentVariant,
): K8sPodSpec {
  const pod = chart.renderPod('DaemonSet', {
    agent: {
      metricsPort,
      // This host runs cgroup v1; the private tree stands in for kubelet's kubepods in each hierarchy.
      cgroupVersion: 'v1',
      cgroupDriver: 'cgroupfs',
      kubepodsDir: kubepods,
      extraArgs: [`--kubeconfig=${kubeconfigInContainer}`],
    },
  });
  const agent = pod.containers.find(c => c.name === 'agent');
  if (!agent) throw new Error('no agent container');
  if (variant !== 'chart') takeAway[variant](pod, agent);
  return pod;
}
