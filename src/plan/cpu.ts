// cpu.shares and CFS quota: kubelet's formulas with per-class weights, always inside the kernel's ranges.
export const minShares = 2;
export const maxShares = 262144;
export const minQuotaUs = 1000;
/** The kernel's max_cfs_runtime (2^44 - 1 us). */
export const maxQuotaUs = 2 ** 44 - 1;

export interface Clamped {
  readonly value: number;
  /** The unclamped value, when clamping changed it. */
  readonly requested?: number;
}

export function sharesFor(requestMilli: number, sharesPerCPU: number): Clamped {
  const raw = Math.floor((requestMilli * sharesPerCPU) / 1000);
  const value = Math.min(maxShares, Math.max(minShares, raw));
  return value === raw ? { value } : { value, requested: raw };
}

/**
 * kubelet MilliCPUToQuota: limit x period / 1000, at least 1000 us; -1 when there is no limit. At most the kernel's
 * maximum (EINVAL above it): that is 176 million CPUs per 100 ms period, so the cap never limits a real node.
 */
export function quotaFor(limitMilli: number | null, periodUs: number): number {
  if (limitMilli === null || limitMilli === 0) return -1;
  return Math.min(maxQuotaUs, Math.max(minQuotaUs, Math.floor((limitMilli * periodUs) / 1000)));
}
