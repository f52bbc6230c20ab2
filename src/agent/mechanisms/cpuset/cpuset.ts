// cpuset: the pod's CPUs (an exclusive set for LS pods, the shared pool otherwise). The pod and its containers are
// written as two levels (containers may not hold CPUs the pod lacks); v1 cgroups also need cpuset.mems filled.
import { parseCpuList } from '../../../api/cpulist.ts';
import { cpuListCodec, v2CpuListCodec } from '../core/codecs.ts';
import { containerWanted, podWanted, type PodDesired } from '../core/desired.ts';
import { knob, type Knob } from '../core/knob.ts';
import { cpusetRule, type LevelNode } from '../core/leveled.ts';
import type { Mechanism, NodeSpec, RestoreDefaults } from '../core/mechanism.ts';
import type { MechanismSession, WriteOp } from '../core/session.ts';
import { podDirKey } from '../../restore/original-values.ts';

/** v1 cgroups start with empty cpuset.mems; a task or cpus write needs them set: copy the parent's first. */
async function memsFill(
  session: MechanismSession,
  mems: Knob<string>,
  containers: readonly string[],
): Promise<WriteOp[]> {
  const podMems = await session.read(mems, null);
  if (podMems === undefined) return [];
  const ops: WriteOp[] = [];
  let effective = podMems;
  if (podMems === '') {
    const parent = await session.read(mems, null, session.target.parentDirOf('cpuset'));
    if (parent === undefined || parent === '') {
      session.fail({ knob: mems.file }, 'ENOSPC', `the parent's cpuset.mems is empty; cannot fill the pod's`);
      return [];
    }
    const op = session.op(mems, { container: null, current: '', desired: parent, force: false });
    if (op) ops.push(op);
    effective = parent;
  }
  for (const name of containers) {
    const current = await session.read(mems, name);
    const op =
      current === ''
        ? session.op(mems, { container: name, current, desired: effective, force: false })
        : undefined;
    if (op) ops.push(op);
  }
  return ops;
}

/**
 * The pod's cpuset target. A v1 pod recorded with an empty cpuset (created fresh, before the agent filled it) is
 * restored to the parent's CPUs, kubelet's default: writing "" back would leave a cgroup no task can join.
 */
async function podCpusetTarget(
  session: MechanismSession,
  cpus: Knob<string>,
  desired: PodDesired,
): Promise<string | undefined> {
  const target = podWanted(session, cpus, desired);
  if (desired.mode !== 'restore' || target !== '' || cpus.codec.invalid('') === undefined) return target;
  return session.read(cpus, null, session.target.parentDirOf('cpuset'));
}

/** Containers take the pod's cpuset (apply) or their recorded one, else the pod's (restore). */
async function cpusetChildren(
  session: MechanismSession,
  cpus: Knob<string>,
  desired: PodDesired,
  pod: { readonly containers: readonly string[]; readonly podCpus: string },
): Promise<LevelNode<string>[]> {
  const children: LevelNode<string>[] = [];
  for (const name of pod.containers) {
    const current = await session.read(cpus, name);
    const recorded = desired.mode === 'apply' ? undefined : containerWanted(session, cpus, desired, name);
    // A v1 container recorded empty (fresh) follows the pod: an empty v1 cpuset cannot hold tasks.
    const target =
      recorded === undefined || cpus.codec.invalid(recorded) !== undefined ? pod.podCpus : recorded;
    if (current === undefined) continue;
    const force = cpus.codec.equal(current, target) && session.forceDue(cpus, name);
    children.push({ id: name, current, desired: target, force });
  }
  return children;
}

async function cpusetOps(
  session: MechanismSession,
  cpus: Knob<string>,
  mems: Knob<string> | undefined,
  desired: PodDesired,
): Promise<WriteOp[]> {
  const podCpus = await podCpusetTarget(session, cpus, desired);
  if (podCpus === undefined) return [];
  // A plan always names CPUs; only a v2 restore may put back "" (inherit the parent's).
  const invalid =
    desired.mode === 'apply' && podCpus === '' ? 'cpu list is empty' : cpus.codec.invalid(podCpus);
  if (invalid !== undefined) {
    session.fail({ knob: cpus.file }, 'ERANGE', `refused: ${invalid}`);
    return [];
  }
  const podCurrent = await session.read(cpus, null);
  if (podCurrent === undefined) return [];
  const containers = await session.containers('cpuset');
  const memsOps = mems ? await memsFill(session, mems, containers) : [];
  const children = await cpusetChildren(session, cpus, desired, { containers, podCpus });
  const podNode = {
    id: podDirKey,
    current: podCurrent,
    desired: podCpus,
    force: cpus.codec.equal(podCurrent, podCpus) && session.forceDue(cpus, null),
  };
  return [...memsOps, ...session.leveled(cpus, [[podNode], children], cpusetRule, value => value)];
}

export function cpusetMechanism(node: NodeSpec): Mechanism {
  const v1 = node.version === 'v1';
  const cpus = knob('cpuset.cpus', 'cpuset', v1 ? cpuListCodec : v2CpuListCodec);
  const mems = v1 ? knob('cpuset.mems', 'cpuset', cpuListCodec) : undefined;
  return {
    name: 'cpuset',
    knobs: mems ? [cpus, mems] : [cpus],
    want: pod => Promise.resolve({ values: new Map([[cpus.file, pod.cpu.cpuset]]), unsupported: [] }),
    // kubelet's default: the parent's full cpuset.
    async kubeletDefaults(session): Promise<RestoreDefaults> {
      const parentCpus = session.layout.hasController('cpuset')
        ? await session.read(cpus, null, session.target.parentDirOf('cpuset'))
        : undefined;
      const values = new Map<string, unknown>();
      if (parentCpus !== undefined && parentCpus !== '') values.set(cpus.file, parentCpus);
      return { values, leftAsIs: [] };
    },
    ops: (session, desired) => cpusetOps(session, cpus, mems, desired),
    applied: (pod, ok) => ({ cpusetSize: ok(cpus.file) ? parseCpuList(pod.cpu.cpuset).length : null }),
  };
}
