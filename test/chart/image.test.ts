// The Containerfile and what it copies, checked without building (the container tests in test/image/ build and
// run it): one stage FROM scratch over the staged root filesystem, nothing run at build time (there is no shell
// in the image), a numeric non-root user, the entrypoint the compiled CLI lands at, and an image reference
// and entrypoint the chart agrees with. Then the import graph the compiled CLI loads.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { helmTemplate, parseManifests, repoRoot } from './helm.ts';

interface Instruction {
  keyword: string;
  args: string;
}

/** Containerfile instructions with line continuations joined and comments dropped. */
function parseContainerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  return logical.map(line => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

const containerfile = parseContainerfile(readFileSync(join(repoRoot, 'Containerfile'), 'utf8'));
const values = parse(readFileSync(join(repoRoot, 'charts', 'nodeqos', 'values.yaml'), 'utf8')) as {
  image: { repository: string; tag: string; digest: string };
  controller: { podSecurityContext: { runAsUser: number; runAsGroup: number } };
};
const chart = parse(readFileSync(join(repoRoot, 'charts', 'nodeqos', 'Chart.yaml'), 'utf8')) as {
  appVersion: string;
};
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const entrypoint = ['/usr/local/bin/node', '/app/dist/cli/main.js'];

function only(keyword: string): Instruction[] {
  return containerfile.filter(i => i.keyword === keyword);
}

describe('Containerfile', () => {
  test('one stage, FROM scratch: nothing comes from a registry', () => {
    expect(only('FROM').map(f => f.args)).toEqual(['scratch']);
  });

  test('nothing runs at build time and nothing is downloaded: COPY of the staged rootfs only', () => {
    expect(only('RUN')).toEqual([]);
    expect(only('ADD')).toEqual([]);
    expect(only('COPY').map(c => c.args)).toEqual(['.image/rootfs/ /']);
  });

  test('.dockerignore lets exactly the staged rootfs into the build context', () => {
    const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map(l => l.trim())
      .filter(l => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual(['*', '!.image/rootfs/']);
  });

  test("runs as the controller's numeric non-root uid by default", () => {
    const user = only('USER').at(-1)?.args;
    const { runAsUser, runAsGroup } = values.controller.podSecurityContext;
    expect(user).toBe(`${runAsUser}:${runAsGroup}`);
    expect(runAsUser).toBeGreaterThan(0);
  });

  test('the entrypoint is node running the compiled CLI, where tsconfig.build.json puts it', () => {
    expect(JSON.parse(only('ENTRYPOINT').at(-1)?.args ?? 'null')).toEqual(entrypoint);
    const build = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(manifest.scripts.build).toBe('tsc -p tsconfig.build.json');
  });

  test('the stage script builds with npm run build and installs production dependencies from the lockfile', () => {
    const script = readFileSync(join(repoRoot, 'scripts', 'stage-image.sh'), 'utf8');
    expect(script).toMatch(/npm run --silent build/);
    expect(script).toMatch(/npm ci --omit=dev/);
    expect(script).not.toMatch(/\bnpm (install|i)\b/);
    expect(script).not.toMatch(/\b(curl|wget)\b/);
  });
});

describe('the chart and the image agree', () => {
  test('scripts/run image tags the reference the chart pulls by default: repository:appVersion', () => {
    expect(chart.appVersion).toBe(manifest.version);
    expect(values.image.tag).toBe('');
    expect(values.image.digest).toBe('');
    const printed = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'chart-image.ts')], {
      encoding: 'utf8',
    });
    expect(printed.stdout.trim()).toBe(`${values.image.repository}:${chart.appVersion}`);
    const rendered = parseManifests(helmTemplate().stdout);
    const podSpecs = rendered
      .filter(m => m.kind === 'Deployment' || m.kind === 'DaemonSet')
      .map(
        m =>
          (
            m as unknown as {
              spec: { template: { spec: { containers: { image: string; command?: unknown }[] } } };
            }
          ).spec.template.spec,
      );
    expect(podSpecs).toHaveLength(2);
    for (const pod of podSpecs)
      for (const container of pod.containers) {
        expect(container.image).toBe(printed.stdout.trim());
        // No command: the image's entrypoint runs, with the chart's args after it.
        expect(container.command).toBeUndefined();
      }
  });
});

/** Runtime (non-type) imports of one TypeScript file: static, re-exports and dynamic import(). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && node.importClause?.phaseModifier !== ts.SyntaxKind.TypeKeyword) {
      found.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier) {
      found.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Walks the import graph from the CLI entry point: files it loads and the packages they name. */
function importGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier));
      else packages.set(packageName(specifier), relative(repoRoot, file));
    }
  }
  return { files, packages };
}

describe('what the production image loads', () => {
  const graph = importGraph(join(repoRoot, 'src', 'cli', 'main.ts'));

  test('every file the CLI loads is under src/ (compiled to dist/, the only code the image holds)', () => {
    const outside = [...graph.files].map(f => relative(repoRoot, f)).filter(f => !f.startsWith('src/'));
    expect(outside).toEqual([]);
    expect(graph.files.size).toBeGreaterThan(5);
  });

  test('every package the CLI loads is a production dependency (npm ci --omit=dev installs it)', () => {
    const missing = [...graph.packages]
      .filter(([name]) => manifest.dependencies[name] === undefined)
      .map(([name, importer]) => `${name} (imported by ${importer})`);
    expect(missing).toEqual([]);
  });
});
