// Label and annotation names that the planner, the informers' transforms and the agent all read. They belong to the
// API: a user writes them on pods.

/** The pod's nodeqos QoS class: LSE, LSR, LS or BE. */
export const qosClassLabel = 'nodeqos.io/qos-class';
/** Koordinator's QoS class label, honoured when nodeqos' own is absent (migration). */
export const koordinatorQoSLabel = 'koordinator.sh/qosClass';
/** The NUMA node a pinned pod asks for. */
export const numaNodeAnnotation = 'nodeqos.io/numa-node';
/** CPUs kubelet keeps for the system (its --reserved-cpus), as a cpu list on the Node. */
export const kubeletReservedCpusAnnotation = 'nodeqos.io/kubelet-reserved-cpus';
/** CPUs kubelet's static CPU manager gave to pods, as a cpu list on the Node: never pinned, in neither pool. */
export const kubeletExclusiveCpusAnnotation = 'nodeqos.io/kubelet-exclusive-cpus';
