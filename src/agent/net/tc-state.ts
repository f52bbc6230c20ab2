// What tc reports for one interface: its root qdisc, the HTB classes of qdisc 1: and the filters attached to 1:.
//
// `tc -j` is JSON for qdiscs and filters, but iproute2 before 6.3 prints HTB classes as text even with -j (the
// class printer had no JSON mode), so classes are parsed from either form. JSON rates are bytes per second; text
// rates are tc's rounded print form (units.ts tcRateText), compared as text.
import { parseHandle } from './units.ts';

export interface ObservedQdisc {
  readonly kind: string;
  readonly handle: string;
  /** HTB only: the minor of its default class. */
  readonly defaultMinor?: number;
}

export type ObservedRate = { readonly bytes: number } | { readonly text: string };

export interface ObservedClass {
  readonly handle: string;
  /** 'root' for a top class, else the parent's handle. */
  readonly parent: string;
  readonly prio?: number;
  readonly quantum?: number;
  readonly rate?: ObservedRate;
  readonly ceil?: ObservedRate;
}

export interface ObservedFilter {
  readonly protocol: string;
  readonly pref: number;
  readonly kind: string;
}

export interface TcState {
  readonly qdisc: ObservedQdisc | undefined;
  readonly classes: readonly ObservedClass[];
  readonly filters: readonly ObservedFilter[];
}

export class TcParseError extends Error {
  constructor(what: string, detail: string, options?: ErrorOptions) {
    super(`cannot parse ${what}: ${detail}`, options);
    this.name = 'TcParseError';
  }
}

type Json = Record<string, unknown>;

function jsonArray(text: string, what: string): Json[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TcParseError(what, `not JSON: ${text.slice(0, 120)}`, { cause: error });
  }
  if (!Array.isArray(value)) throw new TcParseError(what, 'expected a JSON array');
  return value.filter((item): item is Json => typeof item === 'object' && item !== null);
}

const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const asNumber = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** `tc -j qdisc show dev D root`. */
export function parseRootQdisc(text: string): ObservedQdisc | undefined {
  const root = jsonArray(text.trim() === '' ? '[]' : text, 'qdisc list').find(q => q.root === true);
  if (root === undefined) return undefined;
  const kind = asString(root.kind);
  const handle = asString(root.handle);
  if (kind === undefined || handle === undefined)
    throw new TcParseError('qdisc list', 'root qdisc without kind or handle');
  const options = typeof root.options === 'object' && root.options !== null ? (root.options as Json) : {};
  const defaultMinor = parseDefault(options.default);
  return defaultMinor === undefined ? { kind, handle } : { kind, handle, defaultMinor };
}

function parseDefault(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^(0x)?[0-9a-fA-F]+$/.test(value))
    return Number.parseInt(value.replace(/^0x/, ''), 16);
  return undefined;
}

/** `tc -d -j class show dev D`: the HTB classes of qdisc `major`. */
export function parseHtbClasses(text: string, major: number): ObservedClass[] {
  const trimmed = text.trim();
  const all = trimmed.startsWith('[')
    ? jsonArray(trimmed, 'class list').map(classFromJson)
    : textClasses(trimmed);
  return all.filter((c): c is ObservedClass => c !== undefined && parseHandle(c.handle)?.major === major);
}

function classFromJson(item: Json): ObservedClass | undefined {
  const handle = asString(item.handle);
  if (item.class !== 'htb' || handle === undefined) return undefined;
  const rate = asNumber(item.rate);
  const ceil = asNumber(item.ceil);
  return {
    handle,
    parent: item.root === true ? 'root' : (asString(item.parent) ?? 'root'),
    ...optional('prio', asNumber(item.prio)),
    ...optional('quantum', asNumber(item.quantum)),
    ...(rate === undefined ? {} : { rate: { bytes: rate } }),
    ...(ceil === undefined ? {} : { ceil: { bytes: ceil } }),
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function textClasses(text: string): (ObservedClass | undefined)[] {
  return text
    .split('\n')
    .filter(line => line.startsWith('class '))
    .map(classFromText);
}

/** `class htb 1:4 parent 1:fffe leaf 10: prio 3 quantum 200000 rate 500Mbit ceil 1Gbit ... level 0`. */
function classFromText(line: string): ObservedClass | undefined {
  const [, kind, handle, ...rest] = line.trim().split(/\s+/);
  if (kind !== 'htb' || handle === undefined) return undefined;
  const fields = new Map<string, string>();
  let parent = 'root';
  for (let i = 0; i < rest.length; i++) {
    const key = rest[i] ?? '';
    if (key === 'root') continue;
    const value = rest[++i] ?? '';
    if (key === 'parent') parent = value;
    else if (!fields.has(key)) fields.set(key, value);
  }
  const rate = fields.get('rate');
  const ceil = fields.get('ceil');
  return {
    handle,
    parent,
    ...optional('prio', integer(fields.get('prio'))),
    ...optional('quantum', integer(fields.get('quantum'))),
    ...(rate === undefined ? {} : { rate: { text: rate } }),
    ...(ceil === undefined ? {} : { ceil: { text: ceil } }),
  };
}

function integer(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** `tc -j filter show dev D parent 1:` (text lines are accepted too). */
export function parseFilters(text: string): ObservedFilter[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const found = trimmed.startsWith('[')
    ? jsonArray(trimmed, 'filter list').map(filterFromJson)
    : trimmed.split('\n').map(filterFromText);
  const unique = new Map<string, ObservedFilter>();
  for (const f of found) if (f !== undefined) unique.set(`${String(f.pref)}/${f.protocol}/${f.kind}`, f);
  return [...unique.values()];
}

function filterFromJson(item: Json): ObservedFilter | undefined {
  const protocol = asString(item.protocol);
  const pref = asNumber(item.pref);
  const kind = asString(item.kind);
  return protocol === undefined || pref === undefined || kind === undefined
    ? undefined
    : { protocol, pref, kind };
}

function filterFromText(line: string): ObservedFilter | undefined {
  const match = /\bprotocol (\S+) pref (\d+) (\S+)/.exec(line);
  return match === null
    ? undefined
    : { protocol: match[1] ?? '', pref: Number(match[2]), kind: match[3] ?? '' };
}
