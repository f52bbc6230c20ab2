// Field paths as a real API server prints them in errors: `spec.curve[1].ratio`, `spec.labels[app]`.

export function fieldChild(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

export function fieldIndex(path: string, index: number): string {
  return `${path}[${index}]`;
}

export function fieldKey(path: string, key: string): string {
  return `${path}[${key}]`;
}

/** Appends a CEL rule's fieldPath (`.minRatio`, `['a.b']`, `[0]`) to the path of the rule's node. */
export function appendRuleFieldPath(path: string, fieldPath: string): string {
  const quoted = /^\['(.*)'\]$/.exec(fieldPath);
  if (quoted) return fieldChild(path, quoted[1] ?? '');
  if (fieldPath.startsWith('[')) return `${path}${fieldPath}`;
  return fieldChild(path, fieldPath.replace(/^\./, ''));
}
