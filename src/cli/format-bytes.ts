const units = ['Ki', 'Mi', 'Gi', 'Ti'] as const;

/** Bytes for people: exact binary units when they divide evenly (4Gi), else one decimal (3.2Gi). */
export function formatBytes(bytes: number | null, unlimited = 'max'): string {
  if (bytes === null) return unlimited;
  if (bytes < 1024) return String(bytes);
  let value = bytes;
  let unit = '';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${unit}`;
}
