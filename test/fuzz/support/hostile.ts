// Hostile values every fuzz target sees: traversal and absolute paths, NUL and newlines, huge and odd numbers,
// 10 MB strings, deep nesting, prototype keys. Built once (the big ones are shared, not regenerated per case).
import fc from 'fast-check';

export const tenMegabytes = 10 * 1024 * 1024;

/** One shared 10 MB string: generating it per case would make the suite slow without finding more. */
export const hugeString = 'A'.repeat(tenMegabytes);
/** 10 MB of digits and commas: what a cpu list, quantity or uid parser sees at its worst. */
export const hugeDigits = '0,1-2,'.repeat(Math.floor(tenMegabytes / 6));

export const hostileStrings: readonly string[] = [
  '',
  ' ',
  '.',
  '..',
  '../',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '/etc/shadow',
  '/',
  '//',
  '/proc/1/root',
  '/sys/fs/cgroup/../../..',
  'a/../../b',
  '%2e%2e%2f',
  '.hidden',
  '\0',
  'a\0b',
  '\n',
  'a\nb',
  '\r\n',
  'line\nmetric{x="y"} 1',
  '\t',
  '"quoted"',
  '\\',
  '${jndi:ldap://x}',
  '{{ .Values }}',
  "'; rm -rf / #",
  '$(reboot)',
  '`id`',
  '\u202e\u0644',
  '\ud800',
  '🙂',
  'x'.repeat(256),
  'x'.repeat(4097),
  '-0',
  '-1',
  'NaN',
  'Infinity',
  '1e400',
  '0x10',
  '00000000-0000-4000-8000-000000000000',
  '00000000-0000-4000-8000-000000000000/../..',
  'max',
  'all',
  '0-8191',
  '0-99999',
  '5-3',
  '9223372036854775807',
  '__proto__',
  'constructor',
  hugeString,
  hugeDigits,
];

export const hostileNumbers: readonly number[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  2 ** 31,
  2 ** 32,
  2 ** 44,
  2 ** 63,
  1e21,
  999,
  1000,
  1001,
  262144,
  262145,
  1000000,
  1000001,
  1e-7,
];

/** A nested array `depth` levels deep (no recursion needed to build it, so any depth is cheap). */
/** Frozen from the inside out: shared between cases, so nothing may change it. */
export function nestedArray(depth: number): unknown {
  let value: unknown = Object.freeze([]);
  for (let i = 0; i < depth; i++) value = Object.freeze([value]);
  return value;
}

export function nestedObject(depth: number): unknown {
  let value: unknown = Object.freeze({});
  for (let i = 0; i < depth; i++) value = Object.freeze({ a: value });
  return value;
}

const deepValues: readonly unknown[] = [nestedArray(10_000), nestedObject(10_000)];

/** Objects whose keys try to pollute prototypes once copied or merged (frozen: shared between cases). */
const prototypeKeys: readonly unknown[] = [
  Object.freeze(JSON.parse('{"__proto__":{"polluted":true}}') as object),
  Object.freeze({ constructor: Object.freeze({ prototype: Object.freeze({ polluted: true }) }) }),
  Object.freeze(Object.create(null) as object),
];

/**
 * Any code point, lone surrogates included. A custom unit: fast-check's built-in 'binary' unit builds a reverse map
 * of all 1.1 million code points when the arbitrary is created (three seconds per test worker).
 */
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map(cp => String.fromCodePoint(cp));
const anyAscii = fc.integer({ min: 0, max: 0x7f }).map(cp => String.fromCharCode(cp));
const graphemes = fc.constantFrom(
  'e\u0301',
  '👩‍👩‍👧',
  '\u200b',
  '\ufeff',
  'ß',
  'İ',
  '\u0000',
  '/',
  '.',
  '-',
  '_',
);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...hostileStrings) },
  { weight: 2, arbitrary: fc.string({ unit: anyAscii, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: anyCodePoint, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: graphemes, maxLength: 300 }) },
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...hostileNumbers) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
);

/** Anything a decoded document, a hand-written object or an attacker can put in a field. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 4, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, true, false, [], {}, 10n) },
  { weight: 1, arbitrary: fc.constantFrom(...deepValues, ...prototypeKeys) },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3, maxKeys: 4, withNullPrototype: true }) },
);

/** Object.prototype must not gain keys from anything a fuzz case fed in. */
export function prototypeIsClean(): boolean {
  return Object.keys(Object.prototype).length === 0 && !('polluted' in {});
}
