// Egress QoS of one interface: reads the tc state, lays the plan's classes out as an HTB tree (layout.ts) and runs
// only the commands that differ (reconcile.ts). apply() is idempotent: on a converged interface it runs nothing.
import { readFile as readLocalFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import { messageOf } from '../fs.ts';
import { buildHtbLayout, defaultMinor, qdiscHandle, qdiscMajor, type PlanNetClass } from '../net/layout.ts';
import { defaultFallbackLinkBitsPerSec, readLinkRate, type LinkRate } from '../net/link-speed.ts';
import { checkInterfaceName } from '../net/names.ts';
import { planTcCommands, type TcCommand } from '../net/reconcile.ts';
import {
  CommandError,
  execRunner,
  fileReader,
  tcRunner,
  type CommandRunner,
  type TcRunner,
} from './command-runner.ts';
import { parseFilters, parseHtbClasses, parseRootQdisc, type TcState } from '../net/tc-state.ts';

export interface NetQosOptions {
  readonly dev: string;
  /** Run every command inside this network namespace (`ip netns exec NS ...`). */
  readonly netns?: string;
  /** The root class rate; absent: the link speed from sysfs, else fallbackLinkBitsPerSec. */
  readonly linkBitsPerSec?: number;
  readonly fallbackLinkBitsPerSec?: number;
  readonly run?: CommandRunner;
  /** Reads host files (sysfs) when no netns is set. */
  readonly readFile?: (path: string) => Promise<string>;
  readonly logger?: Logger;
}

export interface NetStatusEntry {
  readonly item: string;
  /** unsupported: the node cannot do it; adjusted: a plan value was changed to be valid; assumed: a default was used. */
  readonly status: 'unsupported' | 'adjusted' | 'assumed';
  readonly message: string;
}

export interface NetApplyResult {
  /** The state-changing commands that ran, as full argv; empty when the interface was already converged. */
  readonly commands: readonly (readonly string[])[];
  readonly status: readonly NetStatusEntry[];
  readonly linkBitsPerSec: number;
}

export class NetApplyError extends Error {
  readonly commands: readonly (readonly string[])[];

  constructor(message: string, commands: readonly (readonly string[])[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'NetApplyError';
    this.commands = commands;
  }
}

const missingClassifier = /classifier not found|unknown filter/i;

export class NetQos {
  readonly #dev: string;
  readonly #netns: string | undefined;
  readonly #options: NetQosOptions;
  readonly #tc: TcRunner;
  readonly #read: (path: string) => Promise<string>;
  readonly #log: Logger;
  /** The kernel's answer on the cgroup classifier does not change while the agent runs: ask once. */
  #cgroupClassifier: 'unknown' | 'missing' = 'unknown';

  constructor(options: NetQosOptions) {
    this.#dev = checkInterfaceName(options.dev);
    this.#netns = options.netns;
    this.#options = options;
    const run = options.run ?? execRunner;
    this.#tc = tcRunner(run, options.netns);
    this.#read = fileReader(
      run,
      options.netns,
      options.readFile ?? (async path => readLocalFile(path, 'utf8')),
    );
    this.#log = options.logger ?? pino({ enabled: false });
  }

  async apply(classes: readonly PlanNetClass[]): Promise<NetApplyResult> {
    const link = await this.#linkRate();
    const layout = buildHtbLayout(classes, link.bitsPerSec);
    const status: NetStatusEntry[] = layout.notes.map(message => ({
      item: 'class',
      status: 'adjusted',
      message,
    }));
    if (link.source === 'fallback') {
      status.push({
        item: 'link',
        status: 'assumed',
        message: `link rate ${link.bitsPerSec} bit/s assumed: ${link.reason ?? ''}`,
      });
    }
    const observed = await this.readState();
    const planned = planTcCommands(layout, observed, {
      dev: this.#dev,
      cgroupFilter: this.#cgroupClassifier === 'unknown',
    });
    const commands = await this.#runAll(planned);
    if (this.#cgroupClassifier === 'missing') status.push(noClassifierStatus(this.#dev));
    return { commands, status, linkBitsPerSec: link.bitsPerSec };
  }

  /**
   * Takes the HTB tree away (plan deleted, agent --restore): deleting the root qdisc gives the interface the kernel's
   * default root qdisc back, with no class or filter left. Only a root qdisc that is ours (htb 1:) is deleted.
   */
  async remove(): Promise<NetApplyResult> {
    const { qdisc } = await this.readState();
    if (qdisc?.kind !== 'htb' || qdisc.handle !== qdiscHandle)
      return { commands: [], status: [], linkBitsPerSec: 0 };
    const commands = await this.#runAll([
      { purpose: 'qdisc', args: ['qdisc', 'del', 'dev', this.#dev, 'root'] },
    ]);
    this.#log.info({ dev: this.#dev }, 'network QoS removed: HTB tree deleted, default root qdisc back');
    return { commands, status: [], linkBitsPerSec: 0 };
  }

  /** The root qdisc, and the classes and filters of HTB 1: when it is the root. */
  async readState(): Promise<TcState> {
    const dev = this.#dev;
    const qdisc = parseRootQdisc(await this.#tc(['-j', 'qdisc', 'show', 'dev', dev, 'root']));
    if (qdisc?.kind !== 'htb' || qdisc.handle !== qdiscHandle) return { qdisc, classes: [], filters: [] };
    const classes = parseHtbClasses(await this.#tc(['-d', '-j', 'class', 'show', 'dev', dev]), qdiscMajor);
    const filters = parseFilters(await this.#tc(['-j', 'filter', 'show', 'dev', dev, 'parent', qdiscHandle]));
    return { qdisc, classes, filters };
  }

  async #linkRate(): Promise<LinkRate> {
    const configured = this.#options.linkBitsPerSec;
    if (configured !== undefined) return { bitsPerSec: configured, source: 'configured' };
    return readLinkRate(
      this.#dev,
      this.#read,
      this.#options.fallbackLinkBitsPerSec ?? defaultFallbackLinkBitsPerSec,
    );
  }

  async #runAll(planned: readonly TcCommand[]): Promise<string[][]> {
    const done: string[][] = [];
    for (const command of planned) {
      try {
        await this.#tc(command.args);
      } catch (error) {
        if (
          command.purpose === 'filter' &&
          error instanceof CommandError &&
          missingClassifier.test(error.stderr)
        ) {
          this.#cgroupClassifier = 'missing';
          this.#log.warn(
            { dev: this.#dev, stderr: error.stderr.trim() },
            'kernel has no cgroup classifier; net_cls classids are not matched',
          );
          continue;
        }
        throw new NetApplyError(`network QoS on ${this.#where()}: ${messageOf(error)}`, done, {
          cause: error,
        });
      }
      done.push(this.#argv(command.args));
    }
    return done;
  }

  #argv(args: readonly string[]): string[] {
    return this.#netns === undefined ? ['tc', ...args] : ['ip', 'netns', 'exec', this.#netns, 'tc', ...args];
  }

  #where(): string {
    return this.#netns === undefined ? this.#dev : `${this.#dev} in netns ${this.#netns}`;
  }
}

function noClassifierStatus(dev: string): NetStatusEntry {
  return {
    item: 'filter',
    status: 'unsupported',
    message:
      `${dev}: the kernel has no cgroup classifier (CONFIG_NET_CLS_CGROUP), so net_cls classids are not matched ` +
      `and all egress traffic is shaped by the default class 1:${defaultMinor.toString(16)}`,
  };
}
