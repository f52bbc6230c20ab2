// Memory interference: an LS process touching a working set it keeps (one write per page, in passes) next to a BE
// process that allocates until something gives, under a kubepods memory limit (the node's allocatable: the test
// tree's memory.limit_in_bytes, so the OOM stays inside the tree and never reaches the machine). The LS working set
// is larger than the BE process gets before the limit is hit: without oom_score_adj the kernel kills LS.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadAverage1m } from './machine.ts';
import { BenchNode, type NodeShape } from './node.ts';
import { Workload, type Exit } from './processes.ts';
import { fieldOf, sampleColumns } from './stats.ts';
import type { Variant } from './variants.ts';

export interface MemoryRun {
  readonly variant: string;
  /** LS pass times over its working set, µs. */
  readonly passes: number[];
  readonly lsSurvived: boolean;
  readonly lsExit: Exit | undefined;
  /** 'killed': SIGKILL (OOM); 'running': still allocating or holding when LS finished; undefined: no BE. */
  readonly beFate: 'killed' | 'running' | 'exited' | undefined;
  readonly bePeakMiB: number;
  readonly lsMinorFaults: number;
  readonly lsMajorFaults: number;
  /** memory.oom_control oom_kill summed over the pods' cgroups. */
  readonly oomKills: number;
  readonly load1m: number;
  /** Knobs the agent could not write (nodeqos row), e.g. a negative oom_score_adj without CAP_SYS_RESOURCE. */
  readonly agentFailures: string[];
}

export interface MemoryParams {
  readonly binary: string;
  readonly shape: NodeShape;
  readonly workingSetMiB: number;
  /** One pass over the working set every periodUs (LS leaves CPU for BE to allocate with). */
  readonly periodUs: number;
  readonly durationMs: number;
  readonly hogStepMiB: number;
  readonly hogStepMs: number;
  /** Safety stop for the BE process should every limit fail. */
  readonly hogMaxMiB: number;
}

/** OOM kills in the pods' memory cgroups (v1 counts a kill in the victim's own memcg). */
function oomKills(node: BenchNode): number {
  return [node.ls, node.be]
    .flatMap(pod => [node.sandbox.dir('memory', pod), node.sandbox.dir('memory', pod, pod.containers[0])])
    .reduce((sum, dir) => {
      const text = readFileSync(join(dir, 'memory.oom_control'), 'utf8');
      return sum + Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? NaN);
    }, 0);
}

function fateOf(hog: Workload | undefined): MemoryRun['beFate'] {
  if (hog === undefined) return undefined;
  if (hog.exit === undefined) return 'running';
  return hog.exit.signal === 'SIGKILL' ? 'killed' : 'exited';
}

interface Finished {
  readonly variant: Variant;
  readonly node: BenchNode;
  readonly ls: Workload;
  readonly lsExit: Exit;
  readonly hog: Workload | undefined;
}

function outcome({ variant, node, ls, lsExit, hog }: Finished): MemoryRun {
  const allocated = (hog?.lines ?? []).filter(l => l.startsWith('a ')).map(l => Number(l.slice(2)));
  const faults = fieldOf(ls.lines, 'faults') ?? [NaN, NaN];
  return {
    variant: variant.label,
    passes: sampleColumns(ls.lines).a,
    lsSurvived: lsExit.code === 0 && lsExit.signal === null,
    lsExit,
    beFate: fateOf(hog),
    bePeakMiB: Math.max(0, ...allocated),
    lsMinorFaults: faults[0] ?? NaN,
    lsMajorFaults: faults[1] ?? NaN,
    oomKills: oomKills(node),
    load1m: loadAverage1m(),
    agentFailures: (node.applied?.podFailures ?? []).map(f => `${f.pod} ${f.knob}: ${f.message}`),
  };
}

export async function memoryRun(params: MemoryParams, variant: Variant): Promise<MemoryRun> {
  const node = await BenchNode.create({
    shape: params.shape,
    setting: variant.setting,
    beIdle: variant.beIdle,
  });
  const workloads: Workload[] = [];
  try {
    const ls = await Workload.start(
      params.binary,
      ['memtouch', String(params.workingSetMiB), String(params.periodUs), String(params.durationMs)],
      node.dirsOf('ls'),
    );
    workloads.push(ls);
    const hog =
      variant.setting === 'alone'
        ? undefined
        : await Workload.start(
            params.binary,
            ['memhog', String(params.hogStepMiB), String(params.hogStepMs), String(params.hogMaxMiB)],
            node.dirsOf('be'),
          );
    if (hog) workloads.push(hog);
    await node.enforce([ls.pid], hog ? [hog.pid] : []);
    ls.go();
    if ((await ls.waitFor(line => line === 'warm', 60_000)) === '')
      throw new Error(`LS did not warm its working set: ${JSON.stringify(ls.exit)}`);
    hog?.go();
    await ls.waitFor(line => line.startsWith('faults '), params.durationMs * 4 + 10_000);
    const lsExit = ls.exit ?? (await ls.exited);
    await sleep(50);
    return outcome({ variant, node, ls, lsExit, hog });
  } finally {
    await Promise.all(workloads.map(w => w.kill()));
    await node.close();
  }
}
