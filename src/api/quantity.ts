// Kubernetes resource.Quantity parsing for the two shapes nodeqos needs: CPU in millicores, memory in bytes.

const binarySuffixes: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const decimalSuffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const quantityPattern =
  /^([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

export const quantityRegex = quantityPattern;

/** Parses a quantity into its plain numeric value (cores for CPU, bytes for memory). */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text)) throw new Error(`quantity ${String(text)} is not a finite number`);
    return text;
  }
  const match = quantityPattern.exec(text.trim());
  if (!match) throw new Error(`"${text.slice(0, 64)}" is not a valid quantity`);
  const mantissa = Number(match[1]);
  const suffix = match[2] ?? '';
  let value: number;
  if (suffix in binarySuffixes) value = mantissa * (binarySuffixes[suffix] ?? 1);
  else if (suffix in decimalSuffixes) value = mantissa * (decimalSuffixes[suffix] ?? 1);
  else value = mantissa * 10 ** Number(suffix.slice(1));
  if (!Number.isFinite(value)) throw new Error(`quantity "${text.slice(0, 64)}" is out of range`);
  return value;
}

/** CPU quantity to millicores, rounded up as Kubernetes does (MilliValue rounds up). */
export function cpuToMilli(text: string | number): number {
  const milli = Math.ceil(Math.round(parseQuantity(text) * 1e6) / 1e3);
  if (!Number.isSafeInteger(milli) || milli < 0)
    throw new Error(`cpu quantity "${String(text)}" is out of range`);
  return milli;
}

/** Memory quantity to bytes, rounded up as Kubernetes does (Value rounds up). */
export function memoryToBytes(text: string | number): number {
  const bytes = Math.ceil(parseQuantity(text));
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw new Error(`memory quantity "${String(text)}" is out of range`);
  return bytes;
}

const bandwidthUnits: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
  tbps: 8e12,
};

// No regex flags: this pattern goes into the CRD, where the API server ignores JavaScript flags.
export const bandwidthRegex = /^[0-9]+(?:\.[0-9]+)?[kKmMgGtT]?([bB][iI][tT]|[bB][pP][sS])$/;

/** tc-style bandwidth ("500Mbit", "1gbit"; "bps" suffixes are bytes per second, as in tc) to bits per second. */
export function bandwidthToBits(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)([a-z]+)$/i.exec(text.trim());
  const unit = match?.[2]?.toLowerCase() ?? '';
  const factor = bandwidthUnits[unit];
  if (!match || factor === undefined)
    throw new Error(`"${text.slice(0, 64)}" is not a tc bandwidth such as 500Mbit`);
  const bits = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bits) || bits <= 0)
    throw new Error(`bandwidth "${text.slice(0, 64)}" is out of range`);
  return bits;
}
