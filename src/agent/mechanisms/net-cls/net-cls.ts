// net_cls.classid: tags the pod's sockets with its class's HTB class id (network QoS on, cgroup v1 only, and only
// where a net_cls hierarchy is mounted: the agent never mounts one, decision 0008). The HTB tree itself is the
// executor's NetQos.
import { classidCodec } from '../core/codecs.ts';
import { podWanted, type PodDesired } from '../core/desired.ts';
import { knob, type Knob } from '../core/knob.ts';
import type { Mechanism, NodeSpec } from '../core/mechanism.ts';
import type { MechanismSession, WriteOp } from '../core/session.ts';

/**
 * net_cls.classid on the pod's directory in the net_cls hierarchy. A pod that started before that hierarchy was
 * mounted has no directory there: reported as unsupported for the pod, never taken for a vanished pod.
 */
async function classidOps(
  session: MechanismSession,
  classid: Knob<number>,
  desired: PodDesired,
): Promise<WriteOp[]> {
  if (!desired.pod.has(classid.file)) return [];
  const dir = session.dir(classid.controller, null);
  if (!(await session.exists(dir))) {
    session.unsupported(classid.file, `the pod has no cgroup in the net_cls hierarchy (${dir})`);
    return [];
  }
  const op = await session.simple(classid, null, podWanted(session, classid, desired));
  return op ? [op] : [];
}

/** Undefined when pods are not tagged on this node. */
export function netClsMechanism(node: NodeSpec): Mechanism | undefined {
  if (node.version !== 'v1' || !node.netClassids) return undefined;
  const classid = knob('net_cls.classid', 'net_cls', classidCodec);
  return {
    name: 'net_cls',
    knobs: [classid],
    want: pod =>
      Promise.resolve({
        values: new Map([[classid.file, Number.parseInt(pod.net.classid.slice(2), 16)]]),
        unsupported: [],
      }),
    // kubelet never tags pods: 0 (untagged) is what a fresh cgroup holds.
    kubeletDefaults: () => Promise.resolve({ values: new Map([[classid.file, 0]]), leftAsIs: [] }),
    ops: (session, desired) => classidOps(session, classid, desired),
  };
}
