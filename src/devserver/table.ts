// `kubectl get` output: Table responses (meta.k8s.io/v1 Table), negotiated from the Accept header as a real
// API server does. Custom resources get the CRD version's additionalPrinterColumns, computed like the
// apiextensions table convertor (k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor);
// built-in types get the default convertor's Name and Created At columns
// (k8s.io/apiserver/pkg/registry/rest/table.go), which is a known difference from a real server's printers.
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest } from './api-error.ts';
import { evaluateJsonPath, parseJsonPath } from './json-path.ts';
import { isJsonObject, type JsonObject, type JsonValue } from './json.ts';
import type { PrinterColumn, ResourceType } from './resource-types.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableRequest {
  /** meta.k8s.io version of the Table: v1, or v1beta1 for old clients. */
  readonly version: 'v1' | 'v1beta1';
  readonly includeObject: IncludeObject;
}

interface MediaRange {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(',')
    .map(part => part.trim())
    .filter(part => part !== '')
    .map(part => {
      const [type = '', ...rest] = part.split(';').map(p => p.trim());
      const params = new Map<string, string>();
      for (const p of rest) {
        const eq = p.indexOf('=');
        if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
      }
      return { type: type.toLowerCase(), params };
    });
}

function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  if (value === null || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw badRequest(
    `includeObject: Unsupported value: "${value}": supported values: "Metadata", "None", "Object"`,
  );
}

/**
 * The Table the client asked for, or undefined for plain JSON. The first media range the server can produce
 * wins; `as=Table` with another group or version is skipped, and 406 follows when nothing else is acceptable.
 */
export function tableRequest(req: IncomingMessage, query: URLSearchParams): TableRequest | undefined {
  const accept = req.headers.accept;
  if (accept === undefined || accept.trim() === '') return undefined;
  for (const range of parseAccept(accept)) {
    if (range.type !== 'application/json' && range.type !== '*/*' && range.type !== 'application/*') continue;
    const as = range.params.get('as');
    if (as === undefined) return undefined;
    const version = range.params.get('v');
    if (
      as === 'Table' &&
      range.params.get('g') === 'meta.k8s.io' &&
      (version === 'v1' || version === 'v1beta1')
    )
      return { version, includeObject: includeObjectOf(query) };
  }
  throw new ApiError(
    406,
    'NotAcceptable',
    `only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`,
  );
}

// Descriptions of ObjectMeta.name and .creationTimestamp, as the real server puts them in column definitions.
const nameDescription =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const creationTimestampDescription =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

interface Column {
  readonly definition: JsonObject;
  readonly cell: (object: Readonly<JsonObject>, now: Date) => JsonValue;
}

function metadataField(object: Readonly<JsonObject>, field: string): JsonValue | undefined {
  const metadata = object.metadata;
  return isJsonObject(metadata) ? metadata[field] : undefined;
}

const nameColumn: Column = {
  definition: { name: 'Name', type: 'string', format: 'name', description: nameDescription, priority: 0 },
  cell: object => metadataField(object, 'name') ?? '',
};

/** apimachinery's duration.HumanDuration, the AGE text `kubectl get` shows. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  return humanHours(minutes);
}

function humanHours(minutes: number): string {
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function dateCell(value: JsonValue, now: Date): JsonValue {
  if (typeof value !== 'string') return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? '<invalid>' : humanDuration(now.getTime() - at);
}

function printerCell(column: PrinterColumn, value: JsonValue | undefined, now: Date): JsonValue {
  if (value === undefined || value === null) return null;
  switch (column.type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return dateCell(value, now);
    case 'string':
      // The convertor prints the first result with the JSONPath printer: scalars as text, others as JSON.
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

function printerColumn(column: PrinterColumn): Column {
  const steps = parseJsonPath(column.jsonPath);
  const definition: JsonObject = {
    name: column.name,
    type: column.type,
    format: column.format ?? '',
    description: column.description ?? '',
    priority: column.priority ?? 0,
  };
  return { definition, cell: (object, now) => printerCell(column, evaluateJsonPath(steps, object)[0], now) };
}

const createdAtColumn: Column = {
  definition: {
    name: 'Created At',
    type: 'date',
    format: '',
    description: creationTimestampDescription,
    priority: 0,
  },
  cell: object => metadataField(object, 'creationTimestamp') ?? null,
};

const columnsByType = new WeakMap<ResourceType, readonly Column[]>();

function columnsOf(type: ResourceType): readonly Column[] {
  let columns = columnsByType.get(type);
  if (columns === undefined) {
    columns =
      type.printerColumns === undefined
        ? [nameColumn, createdAtColumn]
        : [nameColumn, ...type.printerColumns.map(printerColumn)];
    columnsByType.set(type, columns);
  }
  return columns;
}

/** Rejects a CRD whose printer columns the server could not evaluate (called when CRDs are loaded). */
export function checkPrinterColumns(type: ResourceType): void {
  for (const column of type.printerColumns ?? []) parseJsonPath(column.jsonPath);
}

function rowObject(
  request: TableRequest,
  object: Readonly<JsonObject>,
  present: (object: Readonly<JsonObject>) => JsonObject,
): JsonObject | undefined {
  if (request.includeObject === 'None') return undefined;
  if (request.includeObject === 'Object') return present(object);
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: `meta.k8s.io/${request.version}`,
    metadata: isJsonObject(object.metadata) ? object.metadata : {},
  };
}

export function toTable(
  request: TableRequest,
  type: ResourceType,
  objects: readonly Readonly<JsonObject>[],
  options: { metadata: JsonObject; now: Date; present: (object: Readonly<JsonObject>) => JsonObject },
): JsonObject {
  const columns = columnsOf(type);
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${request.version}`,
    metadata: options.metadata,
    columnDefinitions: columns.map(c => c.definition),
    rows: objects.map(object => {
      const row: JsonObject = { cells: columns.map(c => c.cell(object, options.now)) };
      const embedded = rowObject(request, object, options.present);
      if (embedded !== undefined) row.object = embedded;
      return row;
    }),
  };
}
