import { describe, expect, it } from 'vitest';
import { parseDocuments } from '../../src/api/documents.ts';
import { validateObjects } from '../../src/api/policy-validation.ts';

const policy = (name: string, spec: object): Record<string, unknown> => ({
  apiVersion: 'nodeqos.io/v1alpha1',
  kind: 'NodeQoSPolicy',
  metadata: { name },
  spec,
});

const problems = (objects: Record<string, unknown>[]): string[] =>
  validateObjects(objects.map((object, i) => ({ source: `f${i}`, object }))).problems.map(
    p => `${p.object} ${p.path}: ${p.message}`,
  );

describe('policy validation', () => {
  it('names the field path of range errors', () => {
    expect(
      problems([
        policy('a', {
          cpuSuppress: {
            curve: [
              { pressure: 10, ratio: 1 },
              { pressure: 20, ratio: 1.5 },
            ],
          },
        }),
      ]),
    ).toEqual(['NodeQoSPolicy/a spec.cpuSuppress.curve[1].ratio: must be <= 1']);
  });

  it('enforces cross-field rules: ascending curve, minRatio <= lowRatio against the class defaults', () => {
    expect(
      problems([
        policy('a', {
          cpuSuppress: {
            curve: [
              { pressure: 50, ratio: 1 },
              { pressure: 50, ratio: 0.5 },
            ],
          },
        }),
      ]),
    ).toEqual([
      'NodeQoSPolicy/a spec.cpuSuppress.curve: curve points must be in strictly ascending pressure order',
    ]);
    expect(problems([policy('a', { classes: { LS: { memory: { minRatio: 0.9 } } } })])).toEqual([
      'NodeQoSPolicy/a spec.classes.LS.memory.minRatio: minRatio must be <= lowRatio (defaults for LS: 0.5 and 0.8)',
    ]);
  });

  it('reports enum, type and required errors and unknown fields', () => {
    expect(problems([policy('a', { classes: { LSE: { cpu: { cpuset: 'pinned' } } } })])).toEqual([
      'NodeQoSPolicy/a spec.classes.LSE.cpu.cpuset: must be one of: "exclusive", "reserved", "shared"',
    ]);
    expect(problems([policy('a', { priority: 'high' })])).toEqual([
      'NodeQoSPolicy/a spec.priority: must be a number',
    ]);
    expect(
      problems([{ apiVersion: 'nodeqos.io/v1alpha1', kind: 'NodeQoSPolicy', metadata: { name: 'a' } }]),
    ).toEqual(['NodeQoSPolicy/a spec: is required']);
    expect(problems([policy('a', { cpuSupress: {} })])).toEqual([
      'NodeQoSPolicy/a spec.cpuSupress: unknown field; the API server would drop it',
    ]);
  });

  it('rejects hostile device paths and bad names', () => {
    expect(
      problems([
        policy('a', {
          classes: { BE: { blkio: { throttle: [{ device: '/dev/../etc/passwd', readBps: 1 }] } } },
        }),
      ]),
    ).toHaveLength(1);
    expect(problems([policy('Bad_Name', {})])[0]).toContain('metadata.name');
  });

  it('flags equal-priority policies that can select the same node, but not disjoint or prioritised ones', () => {
    expect(
      problems([policy('a', {}), policy('b', { nodeSelector: { matchLabels: { x: 'y' } } })]),
    ).toHaveLength(1);
    expect(problems([policy('a', {}), policy('b', { priority: 1 })])).toEqual([]);
    expect(
      problems([
        policy('a', { nodeSelector: { matchLabels: { p: '1' } } }),
        policy('b', { nodeSelector: { matchLabels: { p: '2' } } }),
      ]),
    ).toEqual([]);
    expect(problems([policy('a', {}), policy('a', { priority: 2 })])).toEqual([
      'NodeQoSPolicy/a metadata.name: duplicate of f0',
    ]);
  });

  it('ignores other kinds and flags unknown nodeqos kinds', () => {
    const result = validateObjects([
      { source: 'x', object: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } } },
      {
        source: 'y',
        object: { apiVersion: 'nodeqos.io/v1', kind: 'NodeQoSPolicy', metadata: { name: 'n' } },
      },
    ]);
    expect(result.skipped).toBe(1);
    expect(result.problems.map(p => p.path)).toEqual(['apiVersion']);
  });
});

describe('documents', () => {
  it('reads multi-document YAML, JSON and v1 Lists', () => {
    expect(parseDocuments('a: 1\n---\nb: 2\n', 'f').map(d => d.object)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(parseDocuments('{"kind":"List","items":[{"a":1},{"b":2}]}', 'f').map(d => d.source)).toEqual([
      'f.items[0]',
      'f.items[1]',
    ]);
  });

  it('turns malformed YAML into one clear line with file and line', () => {
    expect(() => parseDocuments('a: 1\nb: [1, 2\n', 'bad.yaml')).toThrow(
      /^bad\.yaml:\d+:\d+: malformed YAML\/JSON/,
    );
    expect(() => parseDocuments('a: 1\na: 2\n', 'dup.yaml')).toThrow(/dup\.yaml/);
    expect(() => parseDocuments('- 1\n', 'scalar.yaml')).toThrow(/expected an object/);
  });
});
