// The Dockerfile cannot be built here (no registry for base images), so it is linted: pinned bases, a non-root
// user, no downloads, production dependencies only, and an import graph the production image can satisfy.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { repoRoot } from './helm.ts';

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  let stage = -1;
  return logical.map(line => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage++;
    return { keyword: upper, args: rest.join(' '), stage };
  });
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const lastStage = Math.max(...dockerfile.map(i => i.stage));
const argDefaults = new Map(
  dockerfile
    .filter(i => i.keyword === 'ARG' && i.args.includes('='))
    .map(i => [i.args.slice(0, i.args.indexOf('=')), i.args.slice(i.args.indexOf('=') + 1)] as const),
);

function expand(value: string): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const name = a ?? b ?? '';
    const found = argDefaults.get(name);
    if (found === undefined) throw new Error(`Dockerfile uses $${name} without an ARG default`);
    return found;
  });
}

function copySources(instruction: Instruction): string[] {
  const words = instruction.args.split(/\s+/).filter(w => !w.startsWith('--'));
  return words.slice(0, -1);
}

describe('Dockerfile', () => {
  test('every base image is pinned by full version or digest', () => {
    const froms = dockerfile.filter(i => i.keyword === 'FROM');
    const aliases = new Set(froms.map(f => /\bAS\s+(\S+)/i.exec(f.args)?.[1]).filter(a => a !== undefined));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      const image = expand(from.args.split(/\s+/)[0] ?? '');
      if (aliases.has(image)) continue;
      const pinnedTag = /^[\w./-]+:\d+\.\d+\.\d+[\w.-]*$/.test(image);
      const pinnedDigest = /@sha256:[a-f0-9]{64}$/.test(image);
      expect(pinnedTag || pinnedDigest, image).toBe(true);
      expect(image).not.toMatch(/:latest\b/);
      expect(image).toMatch(/^node:24\./);
    }
  });

  test('the final stage runs as a non-root user', () => {
    const users = dockerfile.filter(i => i.keyword === 'USER' && i.stage === lastStage);
    const user = users.at(-1)?.args.split(':')[0];
    expect(user).toBeDefined();
    expect(user).toMatch(/^[1-9]\d*$/); // numeric, so the kubelet can enforce runAsNonRoot
  });

  test('nothing is downloaded outside the package managers', () => {
    const adds = dockerfile.filter(i => i.keyword === 'ADD');
    expect(adds.filter(a => /https?:\/\/|git@/.test(a.args))).toEqual([]);
    expect(adds).toEqual([]); // COPY only: ADD also unpacks archives implicitly
    const runs = dockerfile.filter(i => i.keyword === 'RUN').map(r => r.args);
    expect(runs.filter(r => /\b(curl|wget)\b/.test(r))).toEqual([]);
  });

  test('production dependencies come from the lockfile: npm ci --omit=dev, never npm install', () => {
    const runs = dockerfile.filter(i => i.keyword === 'RUN').map(r => r.args);
    expect(runs.some(r => /\bnpm ci\b/.test(r) && r.includes('--omit=dev'))).toBe(true);
    expect(runs.filter(r => /\bnpm (install|i)\b/.test(r))).toEqual([]);
  });

  test('the image holds the manifest, the lockfile, src/ and crds/, and starts the CLI', () => {
    const copied = dockerfile
      .filter(i => i.keyword === 'COPY' && i.stage === lastStage && !i.args.includes('--from'))
      .flatMap(copySources);
    expect(copied.sort()).toEqual(['crds', 'package-lock.json', 'package.json', 'src']);
    const entrypoint = dockerfile.filter(i => i.keyword === 'ENTRYPOINT').at(-1);
    expect(JSON.parse(entrypoint?.args ?? 'null')).toEqual(['node', '/app/src/cli/main.ts']);
    expect(existsSync(join(repoRoot, 'src', 'cli', 'main.ts'))).toBe(true);
  });

  test('.dockerignore is an allow-list of exactly what COPY needs', () => {
    const lines = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map(l => l.trim())
      .filter(l => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.filter(l => l.startsWith('!')).map(l => l.slice(1).replace(/\/$/, ''));
    const needed = dockerfile
      .filter(i => i.keyword === 'COPY' && !i.args.includes('--from'))
      .flatMap(copySources)
      .map(s => s.replace(/\/$/, ''));
    expect([...new Set(allowed)].sort()).toEqual([...new Set(needed)].sort());
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
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const graph = importGraph(join(repoRoot, 'src', 'cli', 'main.ts'));

  test('every file the CLI loads is under src/ (the only sources the image copies)', () => {
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
