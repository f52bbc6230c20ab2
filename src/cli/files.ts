// Reads files and directories (recursively: *.yaml, *.yml, *.json) into sourced objects.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentError, parseDocuments, type SourcedObject } from '../api/documents.ts';

const manifestPattern = /\.(ya?ml|json)$/i;

function listFiles(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw new DocumentError(
      `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap(entry => {
      const child = join(path, entry);
      if (statSync(child).isDirectory()) return listFiles(child);
      return manifestPattern.test(entry) ? [child] : [];
    });
}

export function readObjects(paths: readonly string[]): SourcedObject[] {
  return paths.flatMap(listFiles).flatMap(file => parseDocuments(readFileSync(file, 'utf8'), file));
}
