#!/usr/bin/env node
// nodeqos: one CLI for the controller, the agent, offline planning, validation and the demo.
// Start-up time matters (a kubectl plugin that takes seconds feels broken): this file loads only commander and
// small modules; each command's action imports what that command needs, when it runs.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DocumentError } from '../api/document-error.ts';
import type { AgentCommandOptions } from './commands/agent-options.ts';
import type { ControllerCommandOptions } from './commands/controller.ts';
import type { DemoOptions } from './commands/demo.ts';
import type { ExplainOptions } from './commands/explain.ts';
import { pluginArguments, pluginEnv, pluginHelp } from './kubectl-plugin.ts';
import { outputFormats, type OutputFormat } from './output-formats.ts';
import { UsageError } from './usage-error.ts';
import { versionLine } from './version.ts';
import { logLevels } from '../observability/log-levels.ts';

function percent(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) {
    throw new InvalidArgumentError('must be a number from 0 to 100');
  }
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number >= 0');
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const asPlugin = process.env[pluginEnv] === '1';
const program = new Command(asPlugin ? 'kubectl nodeqos' : 'nodeqos')
  .description('QoS-tiered resource isolation for Kubernetes nodes')
  .option('-V, --version', 'print the version and the commit')
  .showHelpAfterError()
  .exitOverride();
if (asPlugin) program.addHelpText('after', `\n${pluginHelp}`);

program
  .command('version')
  .description('print the version and the commit')
  .action(() => {
    console.log(versionLine());
  });

program
  .command('plan')
  .description('print the NodeIsolationPlan nodeqos would give a node (offline, no cluster)')
  .requiredOption('--policy <file|dir>', 'NodeQoSPolicy file or directory (repeatable)', collect)
  .requiredOption('--node <file>', 'the Node object (YAML or JSON)')
  .option('--pods <file>', 'the pods on the node: a v1 List, multi-document YAML, or JSON')
  .option(
    '--topology <file>',
    'CPU topology {"cpus":[{"id","core","socket","numa"}]}; default: one NUMA node, one thread per core',
  )
  .option('--previous <file>', "the node's previous plan, so pinned CPUs stay where they are")
  .option('--pressure <percent>', 'also compute the BE quota at this CPU pressure (0-100)', percent)
  .addOption(new Option('-o, --output <format>', 'output format').choices(outputFormats).default('table'))
  .action(
    async (options: {
      policy: string[];
      node: string;
      pods?: string;
      topology?: string;
      previous?: string;
      pressure?: number;
      output: OutputFormat;
    }) => {
      const { runPlan } = await import('./commands/plan.ts');
      process.exitCode = runPlan(options);
    },
  );

program
  .command('validate')
  .description('check NodeQoSPolicy files: schema, cross-field rules, unknown fields, overlapping selectors')
  .argument('<paths...>', 'files or directories')
  .action(async (paths: string[]) => {
    const { runValidate } = await import('./commands/validate.ts');
    process.exitCode = runValidate(paths);
  });

program
  .command('demo')
  .description(
    'run nodeqos end to end on the embedded example cluster (API server, controller, one agent per node)',
  )
  .option('--examples <dir>', 'use another examples directory (policies/ and cluster/)')
  .option('--keep', 'keep running and print a kubeconfig for kubectl', false)
  .addOption(new Option('--log-level <level>', 'log level').choices(logLevels).default('warn'))
  .action(async (options: DemoOptions) => {
    // Imported on use: the demo brings the embedded API server and @bufbuild/cel, which the controller and
    // the agent never load (docs/decisions/0112-devserver-out-of-the-production-path.md).
    const { runDemo } = await import('./commands/demo.ts');
    process.exitCode = await runDemo(options);
  });

program
  .command('controller')
  .description('run the cluster controller: policies + nodes + pods -> one NodeIsolationPlan per node')
  .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, then $KUBECONFIG or ~/.kube/config)')
  .option('--metrics-port <port>', 'port for /metrics, /healthz, /readyz', positiveInt, 9090)
  .option('--leader-elect', 'run leader election on a Lease (for more than one replica)', false)
  .option('--lease-namespace <ns>', 'namespace of the Lease', process.env.POD_NAMESPACE ?? 'nodeqos-system')
  .option('--lease-name <name>', 'name of the Lease', 'nodeqos-controller')
  .option('--concurrency <n>', 'nodes reconciled in parallel', positiveInt, 4)
  .option('--debounce-ms <ms>', 'quiet time before a node is re-planned', positiveInt, 200)
  .option(
    '--topology-replan-interval <seconds>',
    'at most one re-plan per node per this many seconds from a change of its reported CPU topology',
    positiveInt,
    30,
  )
  .addOption(new Option('--log-level <level>', 'log level').choices(logLevels).default('info'))
  .action(async (options: ControllerCommandOptions) => {
    const { runControllerCommand } = await import('./commands/controller.ts');
    await runControllerCommand(options);
  });

program
  .command('agent')
  .description("run the node agent: enforce this node's NodeIsolationPlan (or, with --once, one plan file)")
  .option('--node-name <name>', "this node (default: $NODE_NAME; with --once: the plan's node)")
  .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, then $KUBECONFIG or ~/.kube/config)')
  .option('--cgroup-root <dir>', 'where the cgroup hierarchies are mounted', '/sys/fs/cgroup')
  .option('--proc-root <dir>', 'the host /proc (oom_score_adj, /proc/stat, /proc/pressure)', '/proc')
  .option('--sys-root <dir>', 'the host /sys (CPU topology, block devices)', '/sys')
  .addOption(
    new Option('--cgroup-version <v>', 'cgroup version')
      .choices(['auto', 'v1', 'v2', 'hybrid'])
      .default('auto'),
  )
  .addOption(
    new Option('--cgroup-driver <d>', 'kubelet cgroup driver')
      .choices(['auto', 'cgroupfs', 'systemd'])
      .default('auto'),
  )
  .option('--kubepods <dir>', 'the kubepods parent, relative to the cgroup root (default by driver)')
  .option(
    '--state-dir <dir>',
    'where the last plan and the original cgroup values are kept (default /var/lib/nodeqos; required when a root is not the real one, except for a `nodeqos sim-node` directory: <dir>/state)',
  )
  .option('--metrics-port <port>', 'port for /metrics, /healthz, /readyz', positiveInt, 9091)
  .option('--network-qos', 'shape egress with tc (needs CAP_NET_ADMIN and hostNetwork)', false)
  .option('--interface <name>', 'interface for network QoS (default: the default route)')
  .option(
    '--resync-ms <ms>',
    'drift check period: every pod is re-read once per period, a few at a time (new pod and container cgroups are applied as they appear, by inotify)',
    positiveInt,
    300_000,
  )
  .option(
    '--force-rewrite-ms <ms>',
    'also rewrite values that read back right when last written this long ago (0: never; the drift check rewrites what it reads drifted)',
    positiveInt,
    0,
  )
  .option('--once', 'apply --plan once, print a per-pod report, exit 0 (applied) or 1', false)
  .option(
    '--restore',
    'put back every value the agent changed (from --state-dir), lift the BE tier quota, exit',
    false,
  )
  .option('--plan <file>', 'with --once: the NodeIsolationPlan (JSON or YAML, as `nodeqos plan` prints it)')
  .option('--pressure <percent>', 'fix the CPU pressure instead of sampling it (0-100)', percent)
  .addOption(
    new Option('--log-level <level>', 'log level (default: info; with --once: warn)').choices(logLevels),
  )
  .action(async (options: AgentCommandOptions) => {
    if (options.restore) {
      const { runAgentRestore } = await import('./commands/agent-once.ts');
      process.exitCode = await runAgentRestore(options);
    } else if (options.once) {
      const { runAgentOnce } = await import('./commands/agent-once.ts');
      process.exitCode = await runAgentOnce(options);
    } else {
      const { runAgentCommand } = await import('./commands/agent.ts');
      process.exitCode = await runAgentCommand(options);
    }
  });

program
  .command('explain')
  .description("show a node's plan next to what its agent reports it applied, pod by pod")
  .argument('<node>', 'node name (= plan name)')
  .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, as kubectl)')
  .option('--context <name>', "kubeconfig context (default: the kubeconfig's current-context)")
  .option('-n, --namespace <ns>', "show only this namespace's pods (plans are per node, cluster-scoped)")
  .allowUnknownOption(false)
  .addHelpText('after', `\n${pluginHelp}`)
  .action(async (node: string, options: ExplainOptions) => {
    const { runExplain } = await import('./commands/explain.ts');
    process.exitCode = await runExplain(node, options);
  });

program
  .command('sim-node')
  .description(
    'create a simulated node (cgroup v2 file tree, /proc, /sys) holding the pods of a plan, for agent --once',
  )
  .requiredOption('--plan <file>', 'the NodeIsolationPlan whose pods get cgroups')
  .requiredOption('--dir <dir>', 'an empty directory for the tree')
  .option('--cpus <n>', 'CPUs of the node (default: from the plan)', positiveInt)
  .action(async (options: { plan: string; dir: string; cpus?: number }) => {
    const { runSimNode } = await import('./commands/sim-node.ts');
    process.exitCode = await runSimNode(options);
  });

try {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) console.log(versionLine());
  else {
    const commands = program.commands.map(c => c.name());
    await program.parseAsync(asPlugin ? pluginArguments(args, commands) : args, { from: 'user' });
  }
} catch (error) {
  if (error instanceof UsageError || error instanceof DocumentError) {
    console.error(`nodeqos: ${error.message}`);
    process.exitCode = 1;
  } else if (error instanceof Error && 'exitCode' in error && typeof error.exitCode === 'number') {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof Error && process.env.NODEQOS_DEBUG === undefined) {
    console.error(`nodeqos: ${error.message} (set NODEQOS_DEBUG=1 for a stack trace)`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
