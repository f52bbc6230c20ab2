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

/** A mapping: YAML tags can also produce bytes (!!binary), a Set (!!set) or a Date, which are not objects. */
function isObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** What a non-object document holds, for the error: a primitive's type, or the class a YAML tag built. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value.constructor as { name?: string } | undefined)?.name ?? 'an object';
}

function expandList(value: unknown, source: string): SourcedObject[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => expandList(item, `${source}[${i}]`));
  if (!isObject(value)) throw new DocumentError(`${source}: expected an object, got ${describe(value)}`);
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
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // Building values can still fail (an alias bomb is a ReferenceError): one line naming the file.
      throw new DocumentError(`${file}: ${(error as Error).message}`, { cause: error });
    }
    if (value === null || value === undefined) return;
    out.push(...expandList(value, list.length > 1 ? `${file}#${index}` : file));
  });
  return out;
}
