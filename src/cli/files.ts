// Reads files and directories (recursively: *.yaml, *.yml, *.json) into sourced objects. Errors name the absolute
// path tried: the CLI may run from another directory than the user's (scripts/run, a kubectl plugin, an image).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DocumentError } from '../api/document-error.ts';
import { parseDocuments, type SourcedObject } from '../api/documents.ts';

const manifestPattern = /\.(ya?ml|json)$/i;

function cannotRead(path: string, error: unknown): DocumentError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new DocumentError(`${resolve(path)}: cannot read (${code})`, { cause: error });
}

function listFiles(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw cannotRead(path, error);
  }
  if (!stats.isDirectory()) return [path];
  let entries: string[];
  try {
    entries = readdirSync(path).sort();
  } catch (error) {
    throw cannotRead(path, error);
  }
  return entries.flatMap(entry => {
    const child = join(path, entry);
    if (statSync(child).isDirectory()) return listFiles(child);
    return manifestPattern.test(entry) ? [child] : [];
  });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw cannotRead(file, error);
  }
}

export function readObjects(paths: readonly string[]): SourcedObject[] {
  return paths.flatMap(listFiles).flatMap(file => parseDocuments(readText(file), file));
}

/** What a set of objects holds, for errors about the wrong kind of file: `NodeQoSPolicy/a, Pod x6`. */
export function describeKinds(objects: readonly SourcedObject[]): string {
  if (objects.length === 0) return 'no objects';
  const counts = new Map<string, { count: number; name: string }>();
  for (const { object } of objects) {
    const kind = typeof object.kind === 'string' ? object.kind : '(no kind)';
    const metadata = object.metadata as { name?: unknown } | undefined;
    const name = typeof metadata?.name === 'string' ? metadata.name : '';
    const entry = counts.get(kind);
    counts.set(kind, { count: (entry?.count ?? 0) + 1, name: entry ? '' : name });
  }
  return [...counts]
    .map(([kind, { count, name }]) => (count === 1 && name !== '' ? `${kind}/${name}` : `${kind} x${count}`))
    .join(', ');
}
