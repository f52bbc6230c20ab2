// Multi-document YAML / JSON text -> plain objects, with v1 Lists expanded. Pure; errors name file and line.
import { parseAllDocuments, type YAMLError } from 'yaml';
import { DocumentError } from './document-error.ts';

export { DocumentError } from './document-error.ts';

export interface SourcedObject {
  readonly source: string; // file[#index]
  readonly object: Record<string, unknown>;
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

/**
 * `file:line:column: malformed YAML/JSON: <what>` and the lines around it with a caret under the column. The
 * yaml package's pretty message ends its first line with "at line L, column C:" and puts the snippet below.
 */
function describeYamlError(file: string, error: YAMLError): string {
  const start = error.linePos?.[0];
  const where = start === undefined ? '' : `:${start.line}:${start.col}`;
  const [first = '', ...rest] = error.message.split('\n');
  const what = first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
  const snippet = [...rest];
  while (snippet.length > 0 && snippet[0]?.trim() === '') snippet.shift();
  while (snippet.length > 0 && snippet.at(-1)?.trim() === '') snippet.pop();
  const shown = snippet.map(line => `  | ${line}`.trimEnd());
  return [`${file}${where}: malformed YAML/JSON: ${what}`, ...shown].join('\n');
}

export function parseDocuments(text: string, file: string): SourcedObject[] {
  if (text.length > maxDocumentBytes)
    throw new DocumentError(`${file}: larger than ${maxDocumentBytes} bytes`);
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: SourcedObject[] = [];
  list.forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) throw new DocumentError(describeYamlError(file, error));
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
