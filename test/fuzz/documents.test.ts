// Fuzz: YAML/JSON text through parseDocuments (what `nodeqos plan`/`validate` read from disk) and on into
// validateObjects. Any text yields plain objects tagged with their file, or one DocumentError naming the file;
// never another exception, never a hang on aliases, deep nesting or 10 MB values.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { DocumentError, parseDocuments } from '../../src/api/documents.ts';
import { validateObjects } from '../../src/api/policy-validation.ts';
import { fuzz, fuzzSettings } from './support/config.ts';
import { hostileString, prototypeIsClean, tenMegabytes } from './support/hostile.ts';
import { policySpecArb, rawPodArb } from './support/objects.ts';

const settings = fuzzSettings('documents', 10_000, 2);
const file = 'fuzz/policies.yaml';

/** YAML's syntax pieces, so random text reaches the parser's corners (anchors, tags, merges, flow, blocks). */
const yamlToken = fc.constantFrom(
  '{',
  '}',
  '[',
  ']',
  ':',
  ': ',
  '- ',
  '---\n',
  '...\n',
  '&a ',
  '*a',
  '&b [*a,*a,*a] ',
  '!!binary ',
  '!!str ',
  '!!js/function ',
  '!<tag:x> ',
  '<<: ',
  '"',
  "'",
  '\n',
  '  ',
  '\t',
  '#',
  '|\n',
  '>-\n',
  '? ',
  ',',
  '@',
  '`',
  '%YAML 1.2\n',
  '%TAG ! tag:x,2000:\n',
  'kind: List\n',
  'items:\n',
  'kind: NodeQoSPolicy\n',
  'apiVersion: nodeqos.io/v1alpha1\n',
  'spec:',
  'metadata:',
  'name: ',
  'key',
  '1',
  '-0',
  '.nan',
  '.inf',
  '0x1F',
  '1e400',
  'null',
  '~',
  'true',
  'yes',
  '2026-01-01',
  '\0',
  '\ufeff',
  '\u2028',
);

/**
 * Policies with a few spec fields: the YAML parser is the target here (policy.test.ts covers every field), and a
 * full random policy costs milliseconds to stringify and parse.
 */
const smallPolicyArb = fc
  .record({ name: fc.constantFrom('p', 'latency-critical', 'x.y'), spec: policySpecArb })
  .map(({ name, spec }) => ({
    apiVersion: 'nodeqos.io/v1alpha1',
    kind: 'NodeQoSPolicy',
    metadata: { name },
    spec: { priority: spec.priority, cpuBurst: spec.cpuBurst, systemReserved: spec.systemReserved },
  }));

const documentArb = fc.oneof(
  // Well-formed documents, alone or several in a stream, as YAML or as JSON.
  {
    weight: 2,
    arbitrary: fc
      .array(smallPolicyArb, { minLength: 1, maxLength: 2 })
      .map(docs => docs.map(d => stringify(d)).join('---\n')),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(rawPodArb, { maxLength: 2 })
      .map(items => JSON.stringify({ apiVersion: 'v1', kind: 'List', items })),
  },
  // Well-formed documents with hostile text spliced in.
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        smallPolicyArb.map(d => stringify(d)),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.oneof(yamlToken, hostileString)), {
          minLength: 1,
          maxLength: 4,
        }),
      )
      .map(([text, edits]) =>
        edits.reduce((out, [at, cut, insert]) => {
          const i = at % (out.length + 1);
          return (
            out.slice(0, i) + (insert.length > 4096 ? insert.slice(0, 4096) : insert) + out.slice(i + cut)
          );
        }, text),
      ),
  },
  // Token soup.
  { weight: 3, arbitrary: fc.array(yamlToken, { maxLength: 60 }).map(tokens => tokens.join('')) },
  // Nesting, as flow and as blocks (past ~1000 levels the parser's own stack gives out: see explicitCases).
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 200 }), fc.constantFrom('[', '{"a":', '- ', 'a:\n'))
      .map(([depth, open]) =>
        open === '['
          ? '['.repeat(depth) + ']'.repeat(depth)
          : open === '{"a":'
            ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
            : Array.from({ length: Math.min(depth, 300) }, (_, i) => ' '.repeat(i) + open.trim()).join('\n'),
      ),
  },
);

function checkParse(text: string): void {
  let objects: ReturnType<typeof parseDocuments>;
  try {
    objects = parseDocuments(text, file);
  } catch (error) {
    if (!(error instanceof DocumentError)) throw error;
    expect(error.message.startsWith(file)).toBe(true);
    expect(error.message.length).toBeLessThan(2000);
    return;
  }
  for (const item of objects) {
    expect(item.source.startsWith(file)).toBe(true);
    // A plain (or null-prototype) object: never an array, a scalar, null, or a Map/Uint8Array from a tag.
    expect(Object.prototype.toString.call(item.object)).toBe('[object Object]');
  }
  const result = validateObjects(objects);
  for (const problem of result.problems) expect(problem.source.startsWith(file)).toBe(true);
}

/** Aliases and the worst sizes, replayed first on every run. */
const explicitCases: string[] = [
  'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
  'a: &a {b: *a}\n',
  '*a\n',
  '['.repeat(100_000) + ']'.repeat(100_000),
  `a: ${'A'.repeat(tenMegabytes)}`,
  `a: '${'A'.repeat(tenMegabytes)}'`,
  `# ${'A'.repeat(tenMegabytes)}\nkind: NodeQoSPolicy\n`,
  `${'k'.repeat(tenMegabytes)}: 1`,
  'x'.repeat(17 * 1024 * 1024),
  '---\na: 1\n'.repeat(5_000),
];

// The yaml package warns (process.emitWarning) about odd keys such as collections; thousands of those would bury
// the test output. The CLI keeps them.
beforeAll(() => {
  vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe('fuzz: YAML/JSON documents', () => {
  it(
    `parseDocuments + validateObjects: objects tagged with the file, or one DocumentError (${settings.numRuns} cases)`,
    () => {
      fuzz(
        fc.property(documentArb, text => {
          checkParse(text);
          expect(prototypeIsClean()).toBe(true);
        }),
        settings,
        explicitCases.map(text => [text] as [string]),
      );
    },
    settings.timeoutMs,
  );

  it('a 10 MB double-quoted scalar, the slowest shape for the YAML parser, parses within the bound', () => {
    const started = Date.now();
    checkParse(`{"kind":"NodeQoSPolicy","spec":"${'A'.repeat(tenMegabytes)}"}`);
    // About 5 s on this 2-core machine; the 16 MB cap on documents bounds the worst case.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
