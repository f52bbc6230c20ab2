// Interface and network-namespace names as the kernel and iproute2 accept them. They end up in argv (never a
// shell) and in /sys/class/net/<dev> paths, so '.' and '..' are refused along with anything outside the set.
const interfacePattern = /^[A-Za-z0-9_.:-]{1,15}$/;
const netnsPattern = /^[A-Za-z0-9_.-]{1,64}$/;

function checkName(kind: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value) || value === '.' || value === '..') {
    throw new RangeError(
      `invalid ${kind} name ${JSON.stringify(value)}: must match ${pattern.source} and not be . or ..`,
    );
  }
  return value;
}

export function checkInterfaceName(dev: string): string {
  return checkName('interface', dev, interfacePattern);
}

export function checkNetnsName(netns: string): string {
  return checkName('network namespace', netns, netnsPattern);
}
