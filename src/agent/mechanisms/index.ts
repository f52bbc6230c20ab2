// The mechanisms the executor runs, in the order their writes are committed for a pod (one commit per pod pass):
// cpuset, cpu, memory, blkio, net_cls, the order the executor has always written them in
// (test/agent/executor/ordering.test.ts and the kernel tests hold it). Adding a mechanism is one entry here; adding a
// knob to one is a change inside its folder.
import type { Knob } from './core/knob.ts';
import type { Mechanism, NodeSpec } from './core/mechanism.ts';
import { blkioMechanism } from './blkio/blkio.ts';
import { cpuMechanism, type CpuMechanism } from './cpu/cpu.ts';
import { cpusetMechanism } from './cpuset/cpuset.ts';
import { memoryMechanism } from './memory/memory.ts';
import { netClsMechanism } from './net-cls/net-cls.ts';

export interface NodeMechanisms {
  /** In commit order. */
  readonly all: readonly Mechanism[];
  /** The cpu mechanism again, typed: the BE tier writer needs its files. */
  readonly cpu: CpuMechanism;
}

export function mechanismsFor(node: NodeSpec): NodeMechanisms {
  const cpu = cpuMechanism(node);
  const all = [
    cpusetMechanism(node),
    cpu,
    memoryMechanism(node),
    blkioMechanism(node),
    netClsMechanism(node),
  ];
  return { all: all.filter(mechanism => mechanism !== undefined), cpu };
}

/** Every knob of the node's mechanisms by file name (codec lookup for records, reports). */
export function knobsByFile(mechanisms: readonly Mechanism[]): Map<string, Knob<unknown>> {
  return new Map(mechanisms.flatMap(mechanism => mechanism.knobs).map(knob => [knob.file, knob]));
}
