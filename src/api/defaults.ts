// The default isolation table (seed 001, sections 8.11 and 8.14; see docs/decisions/0003-defaults-where-the-seeds-disagree.md).
import type { CpusetPolicy, QoSClass } from './group.ts';

export interface BlkioThrottle {
  readonly device: string;
  readonly readBps?: number;
  readonly writeBps?: number;
  readonly readIops?: number;
  readonly writeIops?: number;
}

export interface ClassDefaults {
  readonly sharesPerCPU: number;
  /** When set, every pod of the class gets exactly these shares, whatever it requests. */
  readonly fixedShares: number | undefined;
  readonly cpuset: CpusetPolicy;
  readonly minRatio: number;
  readonly lowRatio: number;
  readonly highRatio: number;
  readonly oomScoreAdj: number;
  readonly blkioWeight: number;
  readonly blkioThrottle: readonly BlkioThrottle[];
  readonly netPriority: number;
  readonly netClassid: string;
  readonly netRate: string | undefined;
  readonly netCeil: string | undefined;
}

export const classDefaults: Readonly<Record<QoSClass, ClassDefaults>> = {
  LSE: {
    sharesPerCPU: 262144,
    fixedShares: undefined,
    cpuset: 'exclusive',
    minRatio: 0.8,
    lowRatio: 1.0,
    highRatio: 0.9,
    oomScoreAdj: -900,
    blkioWeight: 1000,
    blkioThrottle: [],
    netPriority: 0,
    netClassid: '0x00010001',
    netRate: undefined,
    netCeil: undefined,
  },
  LSR: {
    sharesPerCPU: 65536,
    fixedShares: undefined,
    cpuset: 'reserved',
    minRatio: 0.6,
    lowRatio: 0.8,
    highRatio: 0.9,
    oomScoreAdj: -700,
    blkioWeight: 800,
    blkioThrottle: [],
    netPriority: 1,
    netClassid: '0x00010002',
    netRate: undefined,
    netCeil: undefined,
  },
  LS: {
    sharesPerCPU: 1024,
    fixedShares: undefined,
    cpuset: 'shared',
    minRatio: 0.5,
    lowRatio: 0.8,
    highRatio: 0.9,
    oomScoreAdj: -300,
    blkioWeight: 500,
    blkioThrottle: [],
    netPriority: 2,
    netClassid: '0x00010003',
    netRate: undefined,
    netCeil: undefined,
  },
  BE: {
    sharesPerCPU: 1024,
    fixedShares: 2,
    cpuset: 'shared',
    minRatio: 0,
    lowRatio: 0,
    highRatio: 0.7,
    oomScoreAdj: 1000,
    blkioWeight: 100,
    blkioThrottle: [{ device: 'all', readBps: 524288000, writeBps: 209715200 }],
    netPriority: 3,
    netClassid: '0x00010004',
    netRate: '500Mbit',
    netCeil: '1Gbit',
  },
};

export const suppressDefaults = {
  enabled: true,
  curve: [
    { pressure: 40, ratio: 1.0 },
    { pressure: 50, ratio: 0.8 },
    { pressure: 80, ratio: 0.3 },
    { pressure: 85, ratio: 0.3 },
    { pressure: 95, ratio: 0.1 },
  ],
  interpolation: 'linear',
  pressureSource: 'utilization',
  cfsPeriodUs: 100000,
  floorMilliCPU: 100,
  intervalMs: 100,
  maxStepUpRatio: 0.1,
  beIdle: false,
} as const;

export const burstDefaults = { enabled: false, burstPercent: 50 } as const;

/**
 * BE eviction (docs/decisions/0140-be-eviction-defaults.md). Both switches are off: evicting is the one action
 * nodeqos takes that a pod's owner sees, so a cluster opts in per policy. The numbers are Koordinator's where it
 * has them (memory 70 / threshold - 2, CPU satisfaction 60 / 80, usage 90 %, CPU cool-down 20 s); the rest are
 * ours and explained there.
 */
export const evictionDefaults = {
  /** Pods whose spec.priority is above this are never evicted (koord-prod starts at 9000, koord-mid at 7000). */
  priorityThreshold: 6999,
  /** A BE condition stays True this long after the last sample that showed the pressure (kubelet: 5 min). */
  conditionTransitionSeconds: 300,
  /** Taint the node while a BE condition is True: off (every non-BE workload would need the toleration). */
  taint: false,
  memory: {
    enabled: false,
    thresholdPercent: 70,
    /** Absent: thresholdPercent - 2. */
    lowerPercentBelowThreshold: 2,
    minReclaim: '0',
    coolDownSeconds: 30,
    intervalSeconds: 1,
  },
  cpu: {
    enabled: false,
    satisfactionLowerPercent: 60,
    satisfactionUpperPercent: 80,
    usageThresholdPercent: 90,
    windowSeconds: 60,
    coolDownSeconds: 20,
  },
} as const;
