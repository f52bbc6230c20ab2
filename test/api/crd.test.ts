import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCrds } from '../../src/api/crd-yaml.ts';

const root = join(import.meta.dirname, '..', '..');

describe('generated CRDs', () => {
  it('crds/ matches the zod schemas (run `npm run gen:crds` after changing src/api)', () => {
    for (const { file, text } of renderCrds())
      expect(readFileSync(join(root, 'crds', file), 'utf8')).toBe(text);
  });

  it('are structural: every schema node has a type and none uses what the API server rejects', () => {
    const forbidden = /additionalProperties: false|uniqueItems|\$ref|\$schema|anyOf|oneOf|allOf/;
    for (const { text } of renderCrds()) expect(text).not.toMatch(forbidden);
  });

  it('carry the cross-field CEL rules and the status subresource', () => {
    const policy = renderCrds().find(c => c.file.includes('nodeqospolicies'))?.text ?? '';
    expect(policy).toContain('self.curve.map(p, p.pressure).isSorted()');
    expect(policy).toContain('has(self.lowRatio) ? self.lowRatio : 0.8');
    expect(policy).toMatch(/subresources:\n\s+status: \{\}/);
    expect(policy).toContain('shortNames:\n      - nqp');
  });
});
