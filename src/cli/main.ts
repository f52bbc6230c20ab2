#!/usr/bin/env node
// nodeqos: one CLI for the controller, the agent, offline planning, validation and the demo.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DocumentError } from '../api/documents.ts';
import { runControllerCommand } from './commands/controller.ts';
import { runDemo } from './commands/demo.ts';
import type { ControllerCommandOptions } from './commands/controller.ts';
import { runPlan } from './commands/plan.ts';
import { runValidate } from './commands/validate.ts';
import { outputFormats, type OutputFormat } from './output.ts';
import { UsageError } from './usage-error.ts';
import { logLevels } from '../observability/logger.ts';

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

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const program = new Command('nodeqos')
  .description('QoS-tiered resource isolation for Kubernetes nodes')
  .showHelpAfterError()
  .exitOverride();

program
  .command('plan')
  .description('print the NodeIsolationPlan nodeqos would give a node (offline, no cluster)')
  .requiredOption('--policy <file|dir>', 'NodeQoSPolicy file or directory (repeatable)', collect, [])
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
    (options: {
      policy: string[];
      node: string;
      pods?: string;
      topology?: string;
      previous?: string;
      pressure?: number;
      output: OutputFormat;
    }) => {
      process.exitCode = runPlan(options);
    },
  );

program
  .command('validate')
  .description('check NodeQoSPolicy files: schema, cross-field rules, unknown fields, overlapping selectors')
  .argument('<paths...>', 'files or directories')
  .action((paths: string[]) => {
    process.exitCode = runValidate(paths);
  });

program
  .command('demo')
  .description('run nodeqos on the embedded example cluster (examples/) and print what every pod gets')
  .option('--examples <dir>', 'use another examples directory (policies/ and cluster/)')
  .action((options: { examples?: string }) => {
    process.exitCode = runDemo(options);
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
  .addOption(new Option('--log-level <level>', 'log level').choices(logLevels).default('info'))
  .action(async (options: ControllerCommandOptions) => {
    await runControllerCommand(options);
  });

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof UsageError || error instanceof DocumentError) {
    console.error(`nodeqos: ${error.message}`);
    process.exitCode = 1;
  } else if (error instanceof Error && 'exitCode' in error && typeof error.exitCode === 'number') {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    throw error;
  }
}
