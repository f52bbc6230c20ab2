// Rates, quanta and class ids the way HTB and tc hold them.
//
// HTB keeps rates in bytes per second, so a plan rate in bits is rounded down to a whole byte (a multiple of 8
// bits) before it is written; that rounded value is what gets compared with the kernel's.

export function bitsToBytes(bits: number): number {
  return Math.floor(bits / 8);
}

/** The command-line form that tc parses back to exactly `bytes` bytes per second. */
export function tcRateArg(bytes: number): string {
  return `${bytes * 8}bit`;
}

/**
 * How tc prints a rate in text mode (iproute2 print_color_rate, SI units): the bit rate is divided by 1000 while it
 * is at least 1000 and either divides evenly or is at least a million, so large rates lose their low digits.
 * Comparing this form is exact wherever tc's text output is.
 */
export function tcRateText(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let rate = bytes * 8;
  let unit = 0;
  while (unit < units.length - 1) {
    if (rate < 1000) break;
    if (rate % 1000 !== 0 && rate < 1000 * 1000) break;
    rate = Math.floor(rate / 1000);
    unit += 1;
  }
  return `${rate}${units[unit] ?? ''}bit`;
}

const minQuantum = 1000;
const maxQuantum = 200000;
const rateToQuantum = 10;

/**
 * The DRR quantum of a leaf: rate/10 bytes (HTB's default r2q) held to 1000..200000. Passing it explicitly keeps
 * the kernel from clamping its own value and warning "quantum of class is big".
 */
export function quantumFor(rateBytes: number): number {
  return Math.min(maxQuantum, Math.max(minQuantum, Math.floor(rateBytes / rateToQuantum)));
}

export interface TcHandle {
  readonly major: number;
  readonly minor: number;
}

/** '0x00010004' (net_cls.classid form) -> { major: 1, minor: 4 }. */
export function parseClassid(classid: string): TcHandle {
  if (!/^0x[0-9a-fA-F]{8}$/.test(classid))
    throw new RangeError(`classid ${JSON.stringify(classid)} is not 0xAAAABBBB`);
  const value = Number.parseInt(classid.slice(2), 16);
  return { major: Math.floor(value / 0x10000), minor: value % 0x10000 };
}

/** { major: 1, minor: 0xffff } -> '1:ffff', as tc prints class handles. */
export function formatHandle({ major, minor }: TcHandle): string {
  return `${major.toString(16)}:${minor.toString(16)}`;
}

/** '1:ffff' -> { major: 1, minor: 0xffff }; undefined for anything that is not a class handle. */
export function parseHandle(text: string): TcHandle | undefined {
  const match = /^([0-9a-fA-F]{1,4}):([0-9a-fA-F]{0,4})$/.exec(text);
  if (match === null) return undefined;
  return {
    major: Number.parseInt(match[1] ?? '', 16),
    minor: match[2] === '' ? 0 : Number.parseInt(match[2] ?? '', 16),
  };
}
