// What the conformance suite ignores when it compares a dev server response with a real kube-apiserver's:
// values that differ on every run by design (docs/devserver.md, "Differential conformance").
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const volatileMetadata: Readonly<Record<string, string>> = {
  uid: '<uid>',
  creationTimestamp: '<time>',
  deletionTimestamp: '<time>',
  resourceVersion: '<rv>',
  continue: '<continue>',
};

function isObject(value: Json | undefined): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function normalizeMetadata(metadata: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (volatileMetadata[key] !== undefined && value !== '') out[key] = volatileMetadata[key];
    else if (key === 'managedFields' && Array.isArray(value))
      out[key] = value.map(entry =>
        isObject(entry) ? { ...(normalize(entry) as Record<string, Json>), time: '<time>' } : entry,
      );
    else out[key] = normalize(value);
  }
  return out;
}

/** A response body with uids, timestamps, resourceVersions and continue tokens replaced by placeholders. */
export function normalize(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalize);
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'metadata' && isObject(child)) out[key] = normalizeMetadata(child);
    else if (key === 'uid' && typeof child === 'string')
      out[key] = '<uid>'; // Status details, owner references
    else if (key === 'lastTransitionTime' || key === 'lastHeartbeatTime') out[key] = '<time>';
    else out[key] = normalize(child);
  }
  return out;
}

/** Table cells of date columns hold ages ("3s"), which depend on when the request ran. */
export function normalizeTable(table: Json): Json {
  const normalized = normalize(table);
  if (
    !isObject(normalized) ||
    !Array.isArray(normalized.columnDefinitions) ||
    !Array.isArray(normalized.rows)
  )
    return normalized;
  const dateColumns = normalized.columnDefinitions.flatMap((c, i) =>
    isObject(c) && c.type === 'date' ? [i] : [],
  );
  normalized.rows = normalized.rows.map(row => {
    if (!isObject(row) || !Array.isArray(row.cells)) return row;
    return { ...row, cells: row.cells.map((cell, i) => (dateColumns.includes(i) ? '<age>' : cell)) };
  });
  return normalized;
}
