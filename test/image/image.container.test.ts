// The image, run with podman + runc the way the chart runs it. Each container's podman arguments come from
// `helm template` output (test/image/pod-to-podman.ts): the same image, args, user, capabilities, read-only
// root, host namespaces and mounts. The controller and the agent talk to the embedded API server on loopback
// (--network host stands in for the cluster network); the agent's kubepods is a private nodeqos-test-* tree
// whose pods are real containers (test/support/kubepods.ts). Then CAP_DAC_OVERRIDE, the kubepods cgroup hostPaths, the
// state hostPath and the host PID namespace are taken away, one at a time, and the test shows what breaks.
// The image: $NODEQOS_IMAGE when set (CI builds it with `scripts/run image`), else built here under a
// throwaway tag and removed afterwards. Skipped with the reason printed where podman/buildah/runc are missing;
// NODEQOS_REQUIRE_CONTAINERS=1 (CI) turns the skip into a failure.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition } from '../../src/api/meta.ts';
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { kubeconfigYaml } from '../../src/devserver/kubeconfig.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { plansPath } from '../../src/kube/sources.ts';
import { plan, planPod, uids } from '../agent/helpers/plans.ts';
import { repoRoot } from '../chart/helm.ts';
import { TestCluster } from '../support/cluster.ts';
import {
  containerSkipReason,
  exec,
  podman,
  podmanOk,
  removeContainers,
  ulimits,
} from '../support/containers.ts';
import { eventually } from '../support/eventually.ts';
import { KubepodsTree, type RunningContainer } from '../support/kubepods.ts';
import {
  agentPod,
  ChartContainers,
  eventuallyIn,
  exitCode,
  freePort,
  kubeconfigInContainer,
  logs,
  rootMountOptions,
  type AgentVariant,
} from './chart-containers.ts';

const skipReason = containerSkipReason();
if (skipReason !== undefined) console.log(`image tests skipped: ${skipReason}`);

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;
const suffix = randomBytes(4).toString('hex');

let image = process.env.NODEQOS_IMAGE ?? '';
let builtHere = false;
let server: DevServer | undefined;
let scratch = '';
let chart: ChartContainers | undefined;

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
  } catch {
    return false;
  }
}

interface AgentRun {
  readonly tree: KubepodsTree;
  readonly ls: RunningContainer;
  readonly be: RunningContainer;
  readonly container: string;
  readonly http: KubeHttp;
  readonly node: string;
}

describe.skipIf(skipReason !== undefined)('the nodeqos image under podman + runc', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'nodeqos-image-test-'));
    await chmod(scratch, 0o755);
    if (image === '') {
      const built = await exec(
        join(repoRoot, 'scripts', 'build-image.sh'),
        ['--tag', `localhost/nodeqos-test-${suffix}:${version}`],
        600_000,
      );
      if (built.code !== 0) throw new Error(`scripts/build-image.sh failed: ${built.stderr}`);
      image = built.stdout.trim().split('\n').at(-1) ?? '';
      builtHere = true;
    }
    server = await startDevServer({});
    const kubeconfigFile = join(scratch, 'kubeconfig');
    // Readable by the controller's uid 65532, as a projected ServiceAccount token is.
    await writeFile(kubeconfigFile, kubeconfigYaml(server.url), { mode: 0o644 });
    chart = new ChartContainers(image, kubeconfigFile);
  }, 600_000);

  afterAll(async () => {
    try {
      await chart?.removeAll();
      await server?.close();
      if (builtHere) await podman(['rmi', '--force', image]);
    } finally {
      if (scratch !== '') await rm(scratch, { recursive: true, force: true });
    }
  }, 120_000);

  describe('the image and the controller', () => {
    const controllerName = `nodeqos-test-${suffix}-controller`;
    // The controller deletes plans of nodes it does not know: it must be gone before the agents' plans appear.
    afterAll(async () => {
      await removeContainers([controllerName]);
    }, 60_000);

    it('has the entrypoint, user and tag the chart expects, and no shell', async () => {
      const config = JSON.parse(
        await podmanOk(['image', 'inspect', '--format', '{{json .Config}}', image]),
      ) as { Entrypoint: string[]; User: string };
      expect(config.Entrypoint).toEqual(['/usr/local/bin/node', '/app/dist/cli/main.js']);
      expect(config.User).toBe('65532:65532');
      expect(image.endsWith(`:${version}`)).toBe(true);
      const shell = await podman(['run', '--rm', ...ulimits, '--entrypoint', '/bin/sh', image, '-c', 'true']);
      expect(shell.code).not.toBe(0);
    }, 60_000);

    it('nodeqos --help runs as uid 65532 on a read-only root (the issue-16 --version is not on this branch)', async () => {
      const help = await podman([
        'run',
        '--rm',
        ...ulimits,
        '--read-only',
        '--read-only-tmpfs=false',
        image,
        '--help',
      ]);
      expect(help.stderr).toBe('');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: nodeqos /);
      for (const command of ['controller', 'agent', 'validate', 'plan'])
        expect(help.stdout).toContain(command);
      const uid = await podmanOk([
        'run',
        '--rm',
        ...ulimits,
        '--entrypoint',
        '/usr/local/bin/node',
        image,
        '-p',
        'process.getuid()',
      ]);
      expect(uid).toBe('65532');
    }, 60_000);

    it('nodeqos validate checks the examples', async () => {
      const result = await podman([
        'run',
        '--rm',
        ...ulimits,
        '--read-only',
        '--read-only-tmpfs=false',
        '--volume',
        `${join(repoRoot, 'examples')}:/examples:ro`,
        image,
        'validate',
        '/examples',
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/\d+ nodeqos object\(s\) checked, \d+ policies, 0 problem\(s\)/);
      const bad = join(scratch, 'bad.yaml');
      await writeFile(
        bad,
        'apiVersion: nodeqos.io/v1alpha1\nkind: NodeQoSPolicy\nmetadata: {name: bad}\nspec: {nope: 1}\n',
      );
      await chmod(bad, 0o644);
      const refused = await podman([
        'run',
        '--rm',
        ...ulimits,
        '--volume',
        `${bad}:/bad.yaml:ro`,
        image,
        'validate',
        '/bad.yaml',
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stdout + refused.stderr).toContain('nope');
    }, 60_000);

    it('the controller, as the chart runs it, writes a plan through the API server', async () => {
      const cluster = new TestCluster(server!);
      await cluster.http.request('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'nodeqos-system' } },
      });
      await cluster.node('image-node', { profile: 'image' }, '4');
      await cluster.policy('image-policy', { nodeSelector: { matchLabels: { profile: 'image' } } });
      await cluster.pod('lse', 'image-node', { qos: 'LSE', cpu: '2' });
      await cluster.pod('be', 'image-node', { qos: 'BE' });
      const metricsPort = await freePort();
      const pod = chart!.renderPod('Deployment', {
        controller: { metricsPort, extraArgs: [`--kubeconfig=${kubeconfigInContainer}`] },
      });
      const started = await chart!.start(controllerName, pod, 'controller');
      expect(started.args.slice(0, 2)).toEqual(['controller', `--metrics-port=${metricsPort}`]);
      expect(started.args).toContain('--leader-elect');
      const planned = await eventuallyIn(
        started.name,
        async () => {
          const p = await cluster.plan('image-node');
          expect(p?.spec.pods.map(x => x.name)).toEqual(['be', 'lse']);
          return p as NodeIsolationPlan;
        },
        60_000,
      );
      expect(planned.spec.policyName).toBe('image-policy');
      await eventually(async () => expect(await ready(metricsPort)).toBe(true), 30_000);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/^nodeqos_/m);
      const log = await logs(started.name);
      expect(log).not.toMatch(/"level":(50|60)/);
      // The user, capabilities and root filesystem the chart asked for, read from the host's /proc.
      const pid = Number(await podmanOk(['inspect', '--format', '{{.State.Pid}}', started.name]));
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\s+65532\s+65532\s/m);
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(await rootMountOptions(pid)).toContain('ro');
    }, 120_000);
  });

  describe('the agent image on a real cgroup v1 tree, with the chart settings', () => {
    const runs: AgentRun[] = [];

    afterAll(async () => {
      await removeContainers(runs.map(r => r.container));
      for (const run of runs) await run.tree.cleanup();
    }, 120_000);

    /** A tree with a Burstable (LS) and a BestEffort (BE) pod running as uid 65534, their plan, and the agent. */
    async function startAgent(variant: AgentVariant): Promise<AgentRun> {
      const tree = await KubepodsTree.create();
      const node = `${variant}-node`;
      const http = new KubeHttp(server!.kubeConfig());
      const run: Omit<AgentRun, 'ls' | 'be'> & Partial<AgentRun> = {
        tree,
        node,
        http,
        container: `nodeqos-test-${suffix}-agent-${variant}`,
      };
      runs.push(run as AgentRun);
      const ls = { uid: uids.ls, kubeQoS: 'Burstable' } as const;
      const be = { uid: uids.be, kubeQoS: 'BestEffort' } as const;
      await tree.createPod(ls);
      await tree.createPod(be);
      // kubelet's oom_score_adj for these QoS classes; the containers run as uid 65534.
      const lsContainer = await tree.startContainer(ls, { oomScoreAdj: 999 });
      const beContainer = await tree.startContainer(be, { oomScoreAdj: 1000 });
      Object.assign(run, { ls: lsContainer, be: beContainer });
      const nodePlan = plan(node, [
        planPod({
          uid: ls.uid,
          name: 'ls',
          qosClass: 'LS',
          kubeQoS: 'Burstable',
          cpu: { shares: 1536, cpuset: '0' },
          oomScoreAdj: 500,
        }),
        planPod({
          uid: be.uid,
          name: 'be',
          qosClass: 'BE',
          kubeQoS: 'BestEffort',
          cpu: { shares: 2, cpuset: '0-1' },
          oomScoreAdj: 1000,
        }),
      ]);
      await http.request('POST', plansPath, { body: nodePlan });
      const stateDir = join(scratch, `state-${variant}`);
      await rm(stateDir, { recursive: true, force: true });
      await mkdir(stateDir);
      const pod = agentPod(chart!, tree.name, await freePort(), variant);
      const started = await chart!.start(run.container, pod, 'agent', {
        hostPathOverrides: { state: stateDir },
        nodeName: node,
      });
      expect(started.args).toContain('--cgroup-root=/host/sys/fs/cgroup');
      expect(started.args).toContain(`--node-name=${node}`);
      return run as AgentRun;
    }

    async function lsShares(run: AgentRun): Promise<string> {
      return read(join(run.tree.podDir('cpu', { uid: uids.ls, kubeQoS: 'Burstable' }), 'cpu.shares'));
    }

    /** One attempt at `check`; a failure carries the agent's log. */
    async function checkIn(run: AgentRun, check: () => Promise<void>): Promise<void> {
      await eventuallyIn(run.container, check, 0);
    }

    async function planStatus(run: AgentRun): Promise<NodeIsolationPlan['status']> {
      const current = await run.http.request<NodeIsolationPlan>('GET', `${plansPath}/${run.node}`);
      return current.status;
    }

    async function read(path: string): Promise<string> {
      return (await readFile(path, 'utf8')).trim();
    }

    function condition(status: NodeIsolationPlan['status'], type: string): Condition | undefined {
      return status?.conditions?.find(c => c.type === type);
    }

    it('with the chart settings it applies the plan: cgroup files, oom_score_adj of uid-65534 processes, status', async () => {
      const run = await startAgent('chart');
      const status = await eventuallyIn(
        run.container,
        async () => {
          const s = await planStatus(run);
          expect(s?.appliedGeneration).toBeDefined();
          return s;
        },
        60_000,
      );
      expect(condition(status, 'Applied')?.status).toBe('True');
      expect(status?.podFailures ?? []).toEqual([]);
      await checkIn(run, async () => expect(await lsShares(run)).toBe('1536'));
      expect(
        await read(
          join(
            run.tree.podDir('cpuset', { uid: uids.ls, kubeQoS: 'Burstable' }, run.ls.cgroup),
            'cpuset.cpus',
          ),
        ),
      ).toBe('0');
      expect(
        await read(join(run.tree.podDir('cpu', { uid: uids.be, kubeQoS: 'BestEffort' }), 'cpu.shares')),
      ).toBe('2');
      expect(await read(`/proc/${run.ls.pid}/oom_score_adj`)).toBe('500');
      // The agent runs as root with exactly the chart's capabilities (as far as this host's bounding set allows).
      const agentPid = Number(await podmanOk(['inspect', '--format', '{{.State.Pid}}', run.container]));
      const procStatus = await read(`/proc/${agentPid}/status`);
      const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(procStatus)?.[1] ?? '0'}`);
      const hostBounding = BigInt(
        `0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(await read('/proc/self/status'))?.[1] ?? '0'}`,
      );
      const wanted = (1n << 1n) | (1n << 24n); // CAP_DAC_OVERRIDE, CAP_SYS_RESOURCE
      expect(capEff).toBe(wanted & hostBounding);
      expect(/^Uid:\s+0\s/m.test(procStatus)).toBe(true);
      expect(/^NoNewPrivs:\s+1$/m.test(procStatus)).toBe(true);
      expect(/^Seccomp:\s+2$/m.test(procStatus)).toBe(true);
      expect(await rootMountOptions(agentPid)).toContain('ro');
    }, 180_000);

    it('without CAP_DAC_OVERRIDE: cgroup files are written, oom_score_adj of the uid-65534 processes is EACCES', async () => {
      const run = await startAgent('no-dac-override');
      const status = await eventuallyIn(
        run.container,
        async () => {
          const s = await planStatus(run);
          expect(s?.podFailures?.length).toBeGreaterThan(0);
          return s;
        },
        60_000,
      );
      expect(condition(status, 'Degraded')?.status).toBe('True');
      // Only the LS container's value has to change (999 -> 500); BE's is already kubelet's 1000.
      expect(status?.podFailures?.map(f => [f.pod, f.knob])).toEqual([
        ['default/ls', `${run.ls.cgroup}/oom_score_adj`],
      ]);
      expect(status?.podFailures?.[0]?.message).toMatch(/^EACCES: writing 500 to \/proc\/\d+\/oom_score_adj/);
      expect(await read(`/proc/${run.ls.pid}/oom_score_adj`)).toBe('999');
      await checkIn(run, async () => expect(await lsShares(run)).toBe('1536'));
    }, 180_000);

    it('without the kubepods cgroup hostPaths: the agent exits at start, naming the cgroup root', async () => {
      const run = await startAgent('no-cgroup-mount');
      const code = await eventuallyIn(
        run.container,
        async () => {
          const c = await exitCode(run.container);
          expect(c).toBeDefined();
          return c;
        },
        60_000,
      );
      expect(code).not.toBe(0);
      expect(await logs(run.container)).toContain('/host/sys/fs/cgroup');
      expect(
        await read(join(run.tree.podDir('cpu', { uid: uids.ls, kubeQoS: 'Burstable' }), 'cpu.shares')),
      ).toBe('1024');
      expect((await planStatus(run))?.appliedGeneration).toBeUndefined();
    }, 180_000);

    it('without the host PID namespace: cgroup.procs lists no process, so oom_score_adj is never written', async () => {
      const run = await startAgent('no-host-pid');
      await eventuallyIn(
        run.container,
        async () => {
          const s = await planStatus(run);
          expect(s?.appliedGeneration).toBeDefined();
        },
        60_000,
      );
      await checkIn(run, async () => expect(await lsShares(run)).toBe('1536'));
      expect(await read(`/proc/${run.ls.pid}/oom_score_adj`)).toBe('999');
    }, 180_000);

    it('without the state hostPath: the read-only root refuses the saved originals, so nothing is written', async () => {
      const run = await startAgent('no-state-mount');
      await eventuallyIn(run.container, async () => {
        expect(await logs(run.container)).toMatch(
          /EROFS: read-only file system, open '\/var\/lib\/nodeqos\//,
        );
      });
      // Without somewhere to keep the kubelet's values, the agent changes nothing it could not restore.
      await checkIn(run, async () => {
        expect(await lsShares(run)).toBe('1024');
        expect((await planStatus(run))?.appliedGeneration).toBeUndefined();
      });
    }, 180_000);
  });
});
