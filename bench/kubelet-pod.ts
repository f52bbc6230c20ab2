// A pod as the API server returns it once a Deployment created it, the scheduler bound it and the kubelet ran it:
// managedFields, owner reference, probes, env, the service-account volume, tolerations and a full status. About
// 5 KB of JSON, what an untransformed informer cache holds per pod. The planner-relevant fields are benchPod's.
import { benchPod } from './fixtures.ts';

function fieldsV1(keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map(key => [key, {}]));
}

function managedFields(time: string): unknown[] {
  return [
    {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'v1',
      time,
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': {
          'f:generateName': {},
          'f:labels': fieldsV1(['.', 'f:app', 'f:pod-template-hash', 'f:team']),
          'f:ownerReferences': { '.': {}, 'k:{"uid":"5c1b6c2e-1111-4f00-8000-000000000001"}': {} },
        },
        'f:spec': {
          'f:containers': {
            'k:{"name":"main"}': fieldsV1([
              '.',
              'f:env',
              'f:image',
              'f:imagePullPolicy',
              'f:livenessProbe',
              'f:name',
              'f:ports',
              'f:readinessProbe',
              'f:resources',
              'f:terminationMessagePath',
              'f:terminationMessagePolicy',
              'f:volumeMounts',
            ]),
          },
          ...fieldsV1([
            'f:dnsPolicy',
            'f:enableServiceLinks',
            'f:restartPolicy',
            'f:schedulerName',
            'f:securityContext',
            'f:terminationGracePeriodSeconds',
          ]),
        },
      },
    },
    {
      manager: 'kubelet',
      operation: 'Update',
      apiVersion: 'v1',
      time,
      fieldsType: 'FieldsV1',
      subresource: 'status',
      fieldsV1: {
        'f:status': {
          'f:conditions': fieldsV1([
            'k:{"type":"ContainersReady"}',
            'k:{"type":"Initialized"}',
            'k:{"type":"PodReadyToStartContainers"}',
            'k:{"type":"PodScheduled"}',
            'k:{"type":"Ready"}',
          ]),
          ...fieldsV1(['f:containerStatuses', 'f:hostIP', 'f:hostIPs', 'f:phase', 'f:podIP', 'f:podIPs']),
          'f:startTime': {},
        },
      },
    },
  ];
}

function condition(type: string, time: string): Record<string, unknown> {
  return { type, status: 'True', lastProbeTime: null, lastTransitionTime: time };
}

function probe(path: string): Record<string, unknown> {
  return {
    httpGet: { path, port: 8080, scheme: 'HTTP' },
    initialDelaySeconds: 5,
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  };
}

function statusOf(pod: ReturnType<typeof benchPod>, index: number, time: string): Record<string, unknown> {
  const ip = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
  const resources = pod.spec.containers[0]?.resources;
  const qosClass =
    resources?.requests === undefined
      ? 'BestEffort'
      : resources.limits?.cpu === resources.requests.cpu
        ? 'Guaranteed'
        : 'Burstable';
  return {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(
      type => condition(type, time),
    ),
    hostIP: '192.168.0.10',
    hostIPs: [{ ip: '192.168.0.10' }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: time,
    containerStatuses: [
      {
        name: 'main',
        state: { running: { startedAt: time } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: 'registry.example.com/team/service:1.42.0',
        imageID:
          'registry.example.com/team/service@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945',
        containerID: `containerd://${index.toString(16).padStart(64, '0')}`,
        started: true,
        volumeMounts: [
          {
            name: 'kube-api-access',
            mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
            readOnly: true,
            recursiveReadOnly: 'Disabled',
          },
        ],
      },
    ],
    qosClass,
  };
}

export function kubeletPod(node: string, index: number): Record<string, unknown> {
  const pod = benchPod(node, index);
  const time = pod.metadata.creationTimestamp ?? '2026-01-01T00:00:00Z';
  const app = `service-${index % 97}`;
  const container = pod.spec.containers[0];
  return {
    metadata: {
      ...pod.metadata,
      generateName: `${app}-7d9f8b6c5-`,
      resourceVersion: String(100_000 + index),
      labels: { ...pod.metadata.labels, app, 'pod-template-hash': '7d9f8b6c5', team: `team-${index % 13}` },
      annotations: {
        'kubectl.kubernetes.io/restartedAt': time,
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${app}-7d9f8b6c5`,
          uid: '5c1b6c2e-1111-4f00-8000-000000000001',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: managedFields(time),
    },
    spec: {
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: [
        {
          name: 'main',
          image: 'registry.example.com/team/service:1.42.0',
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            { name: 'GOMAXPROCS', value: '2' },
          ],
          resources: container?.resources ?? {},
          volumeMounts: [
            {
              name: 'kube-api-access',
              readOnly: true,
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
            },
          ],
          livenessProbe: probe('/healthz'),
          readinessProbe: probe('/readyz'),
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: node,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: ['not-ready', 'unreachable'].map(reason => ({
        key: `node.kubernetes.io/${reason}`,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      })),
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: statusOf(pod, index, time),
  };
}
