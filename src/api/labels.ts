// Label and annotation names that the planner, the informers' transforms and the agent all read. They belong to the
// API: a user writes them on pods.

/** The pod's nodeqos QoS class: LSE, LSR, LS or BE. */
export const qosClassLabel = 'nodeqos.io/qos-class';
/** Koordinator's QoS class label, honoured when nodeqos' own is absent (migration). */
export const koordinatorQoSLabel = 'koordinator.sh/qosClass';
/** The NUMA node a pinned pod asks for. */
export const numaNodeAnnotation = 'nodeqos.io/numa-node';
