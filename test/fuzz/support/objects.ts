// Arbitraries for well-formed API objects (policies, pods, nodes, topologies, plans), with values spread over
// each field's whole range and its edges. The fuzz targets mutate them into hostile ones (mutate.ts).
import fc from 'fast-check';
import { cpusetPolicies, kubeQoSClasses, qosClasses } from '../../../src/api/group.ts';
import type { Topology } from '../../../src/api/topology.ts';

export const apiVersion = 'nodeqos.io/v1alpha1';

const edgeInt = (min: number, max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(min, max, Math.max(min, Math.min(max, 0))), fc.integer({ min, max }));

const ratio = (min: number, max: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constantFrom(min, max), fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));

const dnsName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

export const uidArb: fc.Arbitrary<string> = fc.uuid({ version: 4 });

const quantityCpu = fc.oneof(
  fc.integer({ min: 0, max: 64_000 }).map(m => `${m}m`),
  fc.integer({ min: 0, max: 64 }).map(String),
  fc.constantFrom('0.5', '1e3', '100', '9e12', '8192', '1E2', '+2', '.5', '2k', '1Ki'),
);
const quantityMemory = fc.oneof(
  fc.integer({ min: 0, max: 65_536 }).map(m => `${m}Mi`),
  fc.integer({ min: 0, max: 2 ** 40 }).map(String),
  fc.constantFrom('1Gi', '8E', '1e15', '7.5Gi', '0', '123456789', '1Pi', '100M'),
);
const bandwidth = fc.oneof(
  fc.integer({ min: 1, max: 100_000 }).map(n => `${n}Mbit`),
  fc.constantFrom('0bit', '0.0001bit', '1bit', '99999999999999999999tbit', '1.5Gbps', '500kbps', '10TBit'),
);

const throttle = fc.record(
  {
    device: fc.constantFrom('all', '8:0', '254:0', '/dev/sda', '/dev/mapper/vg-root', '/dev/nvme0n1'),
    readBps: edgeInt(0, Number.MAX_SAFE_INTEGER),
    writeBps: edgeInt(0, Number.MAX_SAFE_INTEGER),
    readIops: edgeInt(0, Number.MAX_SAFE_INTEGER),
    writeIops: edgeInt(0, Number.MAX_SAFE_INTEGER),
  },
  { requiredKeys: ['device'] },
);

const classSpec = fc.record(
  {
    cpu: fc.record(
      {
        sharesPerCPU: edgeInt(2, 262144),
        shares: edgeInt(2, 262144),
        cpuset: fc.constantFrom(...cpusetPolicies),
      },
      { requiredKeys: [] },
    ),
    memory: fc
      .record(
        { minRatio: ratio(0, 1), lowRatio: ratio(0, 2), highRatio: ratio(1e-9, 1) },
        { requiredKeys: ['minRatio', 'lowRatio'] },
      )
      .map(m => ({ ...m, minRatio: Math.min(m.minRatio, m.lowRatio) })),
    oomScoreAdj: edgeInt(-1000, 1000),
    blkio: fc.record(
      { weight: edgeInt(10, 1000), throttle: fc.array(throttle, { maxLength: 3 }) },
      { requiredKeys: [] },
    ),
    net: fc.record(
      {
        classid: fc.constantFrom('0x00010001', '0xFFFFFFFF', '0x00000000', '0xabcdef01'),
        priority: edgeInt(0, 7),
        rate: bandwidth,
        ceil: bandwidth,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

const curve = fc
  .uniqueArray(fc.record({ pressure: ratio(0, 100), ratio: ratio(0, 1) }), {
    minLength: 1,
    maxLength: 6,
    selector: p => p.pressure,
  })
  .map(points => [...points].sort((a, b) => a.pressure - b.pressure));

const cpuList = fc.oneof(
  fc.constantFrom('0', '0-1', '0,2,4', '7', '0-7', '5-3', '9000', '0-8191', '', '1-1'),
  fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 6 }).map(ids => ids.join(',')),
);

export const policySpecArb = fc.record(
  {
    nodeSelector: fc.record(
      {
        matchLabels: fc.dictionary(fc.constantFrom('zone', 'pool', 'kubernetes.io/os'), dnsName, {
          maxKeys: 2,
        }),
        matchExpressions: fc.array(
          fc.oneof(
            fc.record({
              key: fc.constantFrom('zone', 'pool'),
              operator: fc.constantFrom('In' as const, 'NotIn' as const),
              values: fc.array(dnsName, { minLength: 1, maxLength: 3 }),
            }),
            fc.record({
              key: fc.constantFrom('zone', 'pool'),
              operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
            }),
          ),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    ),
    priority: edgeInt(-1_000_000, 1_000_000),
    classes: fc.record(Object.fromEntries(qosClasses.map(c => [c, classSpec])), { requiredKeys: [] }),
    cpuSuppress: fc.record(
      {
        enabled: fc.boolean(),
        curve,
        interpolation: fc.constantFrom('linear', 'step'),
        pressureSource: fc.constantFrom('utilization', 'psi'),
        cfsPeriodUs: edgeInt(1000, 1_000_000),
        floorMilliCPU: edgeInt(0, 1_000_000),
        intervalMs: edgeInt(50, 10_000),
        maxStepUpRatio: ratio(1e-9, 1),
      },
      { requiredKeys: [] },
    ),
    cpuBurst: fc.record({ enabled: fc.boolean(), burstPercent: edgeInt(0, 100) }, { requiredKeys: [] }),
    systemReserved: fc.record(
      { cpu: quantityCpu, memory: quantityMemory, cpus: cpuList },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

export const policyArb: fc.Arbitrary<Record<string, unknown>> = fc.record({
  apiVersion: fc.constant(apiVersion),
  kind: fc.constant('NodeQoSPolicy'),
  metadata: fc.record({ name: dnsName, generation: fc.nat() }, { requiredKeys: ['name'] }),
  spec: policySpecArb,
});

const resources = fc.record(
  {
    requests: fc.record({ cpu: quantityCpu, memory: quantityMemory }, { requiredKeys: [] }),
    limits: fc.record({ cpu: quantityCpu, memory: quantityMemory }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const container = fc.record({ name: dnsName, resources });

/** A Pod as the API server returns it (with fields the transform drops), on node n1 unless changed. */
export const rawPodArb: fc.Arbitrary<Record<string, unknown>> = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Pod'),
  metadata: fc.record({
    name: dnsName,
    namespace: dnsName,
    uid: fc.oneof({ weight: 5, arbitrary: uidArb }, { weight: 1, arbitrary: fc.constant('not-a-uid') }),
    resourceVersion: fc.nat().map(String),
    creationTimestamp: fc.constantFrom('2026-01-01T00:00:00Z', '2026-06-01T12:00:00Z', ''),
    labels: fc.record(
      {
        'nodeqos.io/qos-class': fc.constantFrom(...qosClasses, 'lse', 'XX'),
        'koordinator.sh/qosClass': fc.constantFrom(...qosClasses, 'SYSTEM'),
        app: dnsName,
      },
      { requiredKeys: [] },
    ),
    annotations: fc.record(
      { 'nodeqos.io/numa-node': fc.constantFrom('0', '1', '3', '255', '999', '-1', 'x') },
      { requiredKeys: [] },
    ),
  }),
  spec: fc.record(
    {
      nodeName: fc.constantFrom('n1', 'n1', 'n1', 'n2'),
      containers: fc.array(container, { minLength: 1, maxLength: 3 }),
      initContainers: fc.array(
        fc.record({ name: dnsName, resources, restartPolicy: fc.constantFrom('Always', 'OnFailure') }),
        { maxLength: 2 },
      ),
      overhead: fc.record({ cpu: quantityCpu, memory: quantityMemory }, { requiredKeys: [] }),
    },
    { requiredKeys: ['nodeName', 'containers'] },
  ),
  status: fc.record(
    {
      phase: fc.constantFrom('Running', 'Pending', 'Succeeded', 'Failed'),
      qosClass: fc.constantFrom(...kubeQoSClasses),
    },
    { requiredKeys: [] },
  ),
});

export const rawNodeArb: fc.Arbitrary<Record<string, unknown>> = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Node'),
  metadata: fc.record({
    name: fc.constant('n1'),
    resourceVersion: fc.nat().map(String),
    labels: fc.dictionary(fc.constantFrom('zone', 'pool'), dnsName, { maxKeys: 2 }),
  }),
  status: fc.record(
    {
      capacity: fc.record({ cpu: quantityCpu, memory: quantityMemory, pods: fc.constant('110') }),
      allocatable: fc.record({ cpu: quantityCpu, memory: quantityMemory }, { requiredKeys: [] }),
    },
    { requiredKeys: ['capacity'] },
  ),
});

/** Topologies: regular machines (sockets x NUMA x cores x threads), sparse CPU ids and odd numbering. */
export const topologyArb: fc.Arbitrary<Topology> = fc.oneof(
  fc
    .record({
      sockets: fc.integer({ min: 1, max: 2 }),
      numaPerSocket: fc.integer({ min: 1, max: 2 }),
      cores: fc.integer({ min: 1, max: 8 }),
      threads: fc.integer({ min: 1, max: 2 }),
      offset: fc.constantFrom(0, 0, 1, 100, 8000),
    })
    .map(({ sockets, numaPerSocket, cores, threads, offset }) => {
      const perNuma = cores * threads;
      const count = sockets * numaPerSocket * perNuma;
      return {
        cpus: Array.from({ length: count }, (_, i) => {
          const numa = Math.floor(i / perNuma);
          return {
            id: Math.min(8191, i + offset),
            core: numa * cores + Math.floor((i % perNuma) / threads),
            socket: Math.floor(numa / numaPerSocket),
            numa,
          };
        }).filter((cpu, i, all) => all.findIndex(c => c.id === cpu.id) === i),
      };
    }),
  fc
    .uniqueArray(
      fc.record({
        id: fc.integer({ min: 0, max: 8191 }),
        core: fc.integer({ min: 0, max: 8191 }),
        socket: fc.integer({ min: 0, max: 255 }),
        numa: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 24, selector: c => c.id },
    )
    .map(cpus => ({ cpus })),
);
