// The layering is a lint rule: a backwards import fails `npm run lint`, and no two folders of src/ (nor two folders of
// src/agent/) import each other, directly or through others.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { allowedLayers, layersPlugin } from '../../scripts/eslint-layers.js';

const root = resolve(import.meta.dirname, '..', '..');

function ruleOnly(): ESLint {
  return new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { layers: layersPlugin },
        rules: { 'layers/allowed-imports': 'error' },
      },
    ],
  });
}

async function messagesFor(file: string, code: string): Promise<string[]> {
  const [result] = await ruleOnly().lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).map(m => m.message);
}

describe('layer rule', () => {
  it('refuses backwards imports, static, re-exported and dynamic', async () => {
    expect(await messagesFor('src/api/probe.ts', "import { x } from '../plan/qos.ts';\n")).toEqual([
      'src/api may not import src/plan ("../plan/qos.ts"): src/api may import nothing of ours',
    ]);
    expect(
      await messagesFor('src/plan/probe.ts', "export * from '../controller/controller.ts';\n"),
    ).toHaveLength(1);
    expect(
      await messagesFor('src/agent/runtime/probe.ts', "const m = await import('../../controller/x.ts');\n"),
    ).toEqual([
      'src/agent may not import src/controller ("../../controller/x.ts"): src/agent may import api, plan, kube, observability',
    ]);
    expect(await messagesFor('src/kube/probe.ts', "import { y } from '../../test/support/x.ts';\n")).toEqual([
      'src/kube may not import "../../test/support/x.ts": it is outside src/',
    ]);
  });

  it('lets each folder import its own files and the layers below', async () => {
    expect(
      await messagesFor('src/agent/executor/probe.ts', "import { a } from '../../api/plan.ts';\n"),
    ).toEqual([]);
    expect(await messagesFor('src/agent/executor/probe.ts', "import { a } from '../fs.ts';\n")).toEqual([]);
    expect(await messagesFor('src/cli/probe.ts', "import { a } from '../devserver/index.ts';\n")).toEqual([]);
    expect(await messagesFor('src/plan/probe.ts', "import { a } from 'zod';\n")).toEqual([]);
  });

  it('is on for every file under src/ in the project configuration', async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile('src/api/plan.ts')) as {
      rules: Record<string, unknown>;
    };
    expect(config.rules['layers/allowed-imports']).toEqual([2]);
    expect(Object.keys(allowedLayers).sort()).toEqual(
      readdirSync(join(root, 'src'), { withFileTypes: true })
        .filter(e => e.isDirectory())
        .map(e => e.name)
        .sort(),
    );
  });
});

/** Every .ts file under dir. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The node a file counts in: src/<layer>, or inside the agent its sub-folder (or its own name at the top). */
function folderOf(file: string): string {
  const parts = relative(join(root, 'src'), file).split(sep);
  return parts[0] === 'agent' ? `agent/${parts[1] ?? ''}` : (parts[0] ?? '');
}

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(join(root, 'src'))) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
      const to = folderOf(resolve(dirname(file), match[1] ?? match[2] ?? ''));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Folders that reach themselves again through their imports. */
function cycles(graph: Map<string, Set<string>>): string[] {
  const reaches = (start: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [...(graph.get(start) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() ?? '';
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(graph.get(next) ?? []));
    }
    return seen;
  };
  return [...graph.keys()].filter(folder => reaches(folder).has(folder)).sort();
}

describe('import graph', () => {
  it('has no cycle between folders of src/ or of src/agent/', () => {
    expect(cycles(folderGraph())).toEqual([]);
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    expect(cycles(graph)).toEqual(['a', 'b', 'c']);
  });
});
