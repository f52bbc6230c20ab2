// What the production commands load: the controller and the agent never load the embedded API server or
// @bufbuild/cel (only `nodeqos demo` imports them, on use: docs/decisions/0112-devserver-out-of-the-production-path.md),
// and the agent, which runs on every node, does not load @kubernetes/client-node either (docs/decisions/0111).
// main.ts imports each command's module when the command runs, so the probe loads those modules the same way.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '..', '..');

const probe = `
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); loaded.add(r.url); return r; } });
const forbidden = JSON.parse(process.env.FORBIDDEN);
await import(process.env.MODULE);
const unwanted = [...loaded].filter(u => forbidden.some(f => u.includes(f)));
process.stderr.write('UNWANTED ' + JSON.stringify(unwanted) + ' OF ' + loaded.size + '\\n');
`;

const cases: [string, string[]][] = [
  ['src/cli/commands/controller.ts', ['/src/devserver/', '@bufbuild/cel']],
  // Nor undici or yaml: its client is on node:http/https and reads YAML only from a non-JSON kubeconfig (issue 11).
  [
    'src/cli/commands/agent.ts',
    [
      '/src/devserver/',
      '@bufbuild/cel',
      '@kubernetes/client-node',
      '/node_modules/undici/',
      '/node_modules/yaml/',
    ],
  ],
  ['src/cli/commands/agent-once.ts', ['/src/devserver/', '@bufbuild/cel', '@kubernetes/client-node']],
];

describe('production commands', () => {
  for (const [module, forbidden] of cases) {
    it(`${module} loads none of ${forbidden.join(', ')}`, () => {
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: repoRoot,
        env: { ...process.env, MODULE: join(repoRoot, module), FORBIDDEN: JSON.stringify(forbidden) },
        encoding: 'utf8',
      });
      const line = /UNWANTED (\[.*\]) OF (\d+)/.exec(result.stderr);
      expect(line, result.stderr).not.toBeNull();
      expect(JSON.parse(line?.[1] ?? 'null')).toEqual([]);
      expect(Number(line?.[2])).toBeGreaterThan(50); // the hook saw the command's imports
    });
  }

  it('the probe sees a forbidden import when there is one (the check can fail)', () => {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: repoRoot,
      env: {
        ...process.env,
        MODULE: join(repoRoot, 'src/kube/http.ts'),
        FORBIDDEN: JSON.stringify(['@kubernetes/client-node']),
      },
      encoding: 'utf8',
    });
    expect(/UNWANTED (\[.*\])/.exec(result.stderr)?.[1]).toMatch(/client-node/);
  });
});
