export const apiGroup = 'nodeqos.io';
export const apiVersionName = 'v1alpha1';
export const apiVersion = `${apiGroup}/${apiVersionName}`;

export const qosClasses = ['LSE', 'LSR', 'LS', 'BE'] as const;
export type QoSClass = (typeof qosClasses)[number];

export const kubeQoSClasses = ['Guaranteed', 'Burstable', 'BestEffort'] as const;
export type KubeQoS = (typeof kubeQoSClasses)[number];

export const cpusetPolicies = ['exclusive', 'reserved', 'shared'] as const;
export type CpusetPolicy = (typeof cpusetPolicies)[number];
