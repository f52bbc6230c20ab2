// The production entry point (src/cli/main.ts: controller, agent) never loads the embedded API server or
// @bufbuild/cel; only `nodeqos demo` imports them, on use (docs/decisions/0112-devserver-out-of-the-production-path.md).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '..', '..');

const probe = `
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); loaded.add(r.url); return r; } });
process.argv = [process.argv[0], 'main.ts', ...JSON.parse(process.env.ARGS)];
process.on('exit', () => {
  const unwanted = [...loaded].filter(u => u.includes('/src/devserver/') || u.includes('@bufbuild/cel'));
  process.stderr.write('UNWANTED ' + JSON.stringify(unwanted) + ' OF ' + loaded.size + '\\n');
});
await import(${JSON.stringify(join(repoRoot, 'src/cli/main.ts'))}).catch(() => {});
`;

describe('production entry point', () => {
  for (const args of [
    ['controller', '--help'],
    ['agent', '--help'],
  ]) {
    it(`nodeqos ${args.join(' ')} loads neither src/devserver nor @bufbuild/cel`, () => {
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
        cwd: repoRoot,
        env: { ...process.env, ARGS: JSON.stringify(args) },
        encoding: 'utf8',
      });
      const line = /UNWANTED (\[.*\]) OF (\d+)/.exec(result.stderr);
      expect(line, result.stderr).not.toBeNull();
      expect(JSON.parse(line?.[1] ?? 'null')).toEqual([]);
      expect(Number(line?.[2])).toBeGreaterThan(100); // the hook saw the CLI's imports
    });
  }
});
