// Multi-document YAML / JSON text -> plain objects, with v1 Lists expanded. Pure; errors name file and line.
import { parseAllDocuments } from 'yaml';

export interface SourcedObject {
  readonly source: string; // file[#index]
  readonly object: Record<string, unknown>;
}

export class DocumentError extends Error {
  override readonly name = 'DocumentError';
}

const maxDocumentBytes = 16 * 1024 * 1024;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expandList(value: unknown, source: string): SourcedObject[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => expandList(item, `${source}[${i}]`));
  if (!isObject(value))
    throw new DocumentError(`${source}: expected an object, got ${value === null ? 'null' : typeof value}`);
  const kind = value.kind;
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value.items)) {
    return value.items.flatMap((item, i) => expandList(item, `${source}.items[${i}]`));
  }
  return [{ source, object: value }];
}

export function parseDocuments(text: string, file: string): SourcedObject[] {
  if (text.length > maxDocumentBytes)
    throw new DocumentError(`${file}: larger than ${maxDocumentBytes} bytes`);
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: SourcedObject[] = [];
  list.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0].line;
      throw new DocumentError(
        `${file}${line === undefined ? '' : `:${line}`}: malformed YAML/JSON: ${error.message.split('\n')[0] ?? ''}`,
      );
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    out.push(...expandList(value, list.length > 1 ? `${file}#${index}` : file));
  });
  return out;
}
