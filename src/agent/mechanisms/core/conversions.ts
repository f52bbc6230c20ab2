// v1 -> v2 value conversions (see docs/agent.md, "Formulas").

export const minShares = 2;
export const maxShares = 262144;

/**
 * cpu.shares -> cpu.weight with kubelet's linear map for pod and QoS cgroups (pkg/kubelet/cm/cgroup_manager_linux.go,
 * CpuSharesToCpuWeight): 2 -> 1, 1024 -> 39, 262144 -> 10000. Chosen over runc's newer log-quadratic map (used for
 * containers since 2025) because pod cgroups on a kubelet node carry kubelet's value, so restore and comparison agree.
 */
export function sharesToWeight(shares: number): number {
  if (!Number.isInteger(shares) || shares < minShares || shares > maxShares) {
    throw new RangeError(`cpu.shares ${shares} is outside ${minShares}..${maxShares}`);
  }
  if (shares >= maxShares) return 10000;
  return 1 + Math.floor(((shares - minShares) * 9999) / (maxShares - minShares));
}

/** blkio.weight (10..1000) -> io.weight (1..10000), runc's map: 1 + (w - 10) * 9999 / 990. */
export function blkioWeightToIoWeight(weight: number): number {
  if (!Number.isInteger(weight) || weight < 10 || weight > 1000)
    throw new RangeError(`blkio weight ${weight} is outside 10..1000`);
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}
