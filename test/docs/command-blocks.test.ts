// Every command block of the README, docs/install.md and docs/gitops.md runs as printed, on a clean copy of the
// checkout (tracked files only: no dist/, no state left by earlier runs), from a shell in the copy's root, with
// kubectl and helm (from the npm package the chart tests use) on PATH, a HOME of its own, and $KUBECONFIG pointing
// at the embedded API server holding node-a's plan (the README example). A block the test cannot run here is
// marked in the document, on the line above it: `<!-- docs-test: skip (why) -->`; the list of such blocks is
// fixed below, so it only grows on purpose. `<!-- docs-test: in gitops-repo (...) -->` runs a block in a GitOps
// repository layout (policies/ and a .nodeqos checkout); `<!-- docs-test: output (...) -->` also compares what
// the block prints with the plain block that follows it. Policies shown as YAML are validated with the CLI.
import { execFile, execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChartTools } from '../../scripts/chart-tools.ts';
import { startDevServer, type DevServer } from '../../src/devserver/index.ts';
import { examplePlanArgs, repoRoot, runCli } from '../cli/run-cli.ts';

const documents = ['README.md', 'docs/install.md', 'docs/gitops.md'] as const;

/** Blocks that need what this machine lacks (a cluster, Docker) or would run this suite inside itself. */
const expectedSkips = [
  'README.md: scripts/run test',
  'README.md: apt-get install -y podman buildah runc',
  'README.md: # A namespace that admits the agent\'s host access (the controller itself meets "restricted").',
  'README.md: scripts/run image && podman save -o nodeqos-0.1.0.tar ghcr.io/nodeqos/nodeqos:0.1.0',
  'README.md: kubectl get nqp',
  'README.md: scripts/run npm run lint',
  'docs/install.md: apt-get install -y podman buildah runc',
  'docs/install.md: kind load image-archive nodeqos-0.1.0.tar',
  'docs/install.md: # 1. The image (above): loaded into kind/k3d under its default name, or pushed to your registry.',
  'docs/install.md: scripts/stage-image.sh && docker build -f Containerfile -t ghcr.io/nodeqos/nodeqos:0.1.0 .',
  'docs/install.md: scripts/stage-image.sh && docker build -f Containerfile -t ghcr.io/nodeqos/nodeqos:0.1.0 .',
  'docs/install.md: kubectl apply --server-side --force-conflicts -f charts/nodeqos/crds/',
  'docs/install.md: kubectl delete nodeqospolicies --all',
];

interface Block {
  readonly doc: string;
  readonly line: number; // of the opening fence, 1-based
  readonly lang: string;
  readonly text: string;
  /** The `<!-- docs-test: ... -->` directive on the line above the fence, if any. */
  readonly directive?: string;
  /** The plain (language-less) block that follows, if it comes next. */
  readonly next?: Block;
}

function parseBlocks(doc: string): Block[] {
  const lines = readFileSync(join(repoRoot, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    const above = lines[start - 1] ?? '';
    const directive = /^<!-- docs-test: (.*) -->$/.exec(above)?.[1];
    blocks.push({
      doc,
      line: start + 1,
      lang: open[1] ?? '',
      text: body.join('\n'),
      ...(directive === undefined ? {} : { directive }),
    });
  }
  // Link each block to a plain block that follows it directly (nothing but blank lines between).
  return blocks.map((block, index) => {
    const following = blocks[index + 1];
    const gap = lines.slice(block.line + block.text.split('\n').length + 1, (following?.line ?? 0) - 1);
    return following?.lang === '' && gap.every(l => l.trim() === '') ? { ...block, next: following } : block;
  });
}

const shellLanguages = new Set(['sh', 'bash', 'shell']);
const allBlocks = documents.flatMap(parseBlocks);
const shellBlocks = allBlocks.filter(b => shellLanguages.has(b.lang));
/** `doc: first line`, without a trailing `# comment` (a line that is all comment stays). */
const label = (b: Block): string => {
  const first = b.text.split('\n')[0] ?? '';
  return `${b.doc}: ${first.startsWith('#') ? first : first.replace(/\s+#.*$/, '')}`;
};

let work: string;
let checkout: string;
let server: DevServer;
let env: NodeJS.ProcessEnv;

/** tracked (and new, not ignored) files of the repository, copied; node_modules and .tools linked. */
function cleanCopy(into: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(f => f !== '');
  for (const file of files) {
    try {
      mkdirSync(dirname(join(into, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(into, file), { verbatimSymlinks: true });
    } catch (error) {
      // A file deleted in the working tree but still in the index: not part of what a checkout would hold.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(into, 'node_modules'));
  symlinkSync(join(repoRoot, '.tools'), join(into, '.tools'));
}

function gitopsRepo(): string {
  const dir = mkdtempSync(join(work, 'gitops-'));
  mkdirSync(join(dir, 'policies'));
  const policies = readdirSync(join(repoRoot, 'examples', 'policies')).filter(f => f.endsWith('.yaml'));
  for (const file of policies)
    cpSync(join(repoRoot, 'examples', 'policies', file), join(dir, 'policies', file));
  writeFileSync(
    join(dir, 'policies', 'kustomization.yaml'),
    `resources:\n${policies.map(f => `  - ${f}`).join('\n')}\n`,
  );
  symlinkSync(checkout, join(dir, '.nodeqos'));
  return dir;
}

function bash(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(
      'bash',
      ['-euo', 'pipefail', '-c', script],
      { cwd, env, timeout: 300_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nodeqos-docs-'));
  checkout = join(work, 'checkout');
  cleanCopy(checkout);
  const home = join(work, 'home');
  mkdirSync(home);
  server = await startDevServer();
  const kubeconfig = join(work, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
  const plan = JSON.parse(runCli([...examplePlanArgs, '-o', 'json']).stdout) as Record<string, unknown>;
  const created = await fetch(`${server.url}/apis/nodeqos.io/v1alpha1/nodeisolationplans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...plan, metadata: { name: 'node-a' } }),
  });
  expect(created.status).toBe(201);
  const tools = ensureChartTools();
  env = {
    ...process.env,
    HOME: home,
    KUBECONFIG: kubeconfig,
    PATH: [join(home, '.local', 'bin'), dirname(tools.kubectl), dirname(tools.helm), process.env.PATH].join(
      ':',
    ),
  };
}, 120_000);

afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

describe('documentation command blocks', () => {
  it('skips only the blocks listed here, each with its reason in the document', () => {
    const skipped = shellBlocks.filter(b => b.directive?.startsWith('skip'));
    expect(skipped.map(label)).toEqual(expectedSkips);
    for (const b of skipped) expect(b.directive, label(b)).toMatch(/^skip \(.+\)$/);
    const unknown = allBlocks.filter(
      b => b.directive !== undefined && !/^(skip|in gitops-repo|output)\b/.test(b.directive),
    );
    expect(unknown.map(label)).toEqual([]);
  });

  const runnable = shellBlocks.filter(b => !b.directive?.startsWith('skip'));
  it('finds the blocks users run first', () => {
    expect(runnable.map(label)).toEqual(
      expect.arrayContaining([
        'README.md: scripts/run demo',
        'README.md: scripts/run nodeqos plan --policy examples/policies --node examples/node.yaml \\',
        'docs/install.md: mkdir -p ~/.local/bin',
        'docs/gitops.md: kubectl kustomize policies/ > built.yaml',
      ]),
    );
  });

  for (const block of runnable) {
    it(`${block.doc}:${block.line} runs as printed`, async () => {
      const cwd = block.directive?.startsWith('in gitops-repo') ? gitopsRepo() : checkout;
      const result = await bash(block.text, cwd);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      if (block.directive?.startsWith('output')) {
        expect(block.next, 'an output block follows').toBeDefined();
        expect(result.stdout.trimEnd()).toBe(block.next?.text.trimEnd());
      }
    }, 600_000);
  }

  const policies = allBlocks.filter(b => b.lang === 'yaml' && /^kind: NodeQoSPolicy$/m.test(b.text));
  for (const block of policies) {
    it(`${block.doc}:${block.line}: the policy shown is valid`, () => {
      const dir = mkdtempSync(join(work, 'policy-'));
      writeFileSync(join(dir, 'policy.yaml'), block.text);
      const result = runCli(['validate', 'policy.yaml'], dir);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    });
  }
});

describe('the documents agree', () => {
  const texts = [...documents, 'charts/nodeqos/templates/NOTES.txt'].map(doc => ({
    doc,
    text: readFileSync(join(repoRoot, doc), 'utf8'),
  }));

  it('every server-side CRD apply has --force-conflicts (Helm owns the fields after the first install)', () => {
    for (const { doc, text } of texts)
      for (const match of text.matchAll(/kubectl apply --server-side[^\n`]*/g))
        expect(match[0], doc).toContain('--force-conflicts');
  });

  it('the plugin is shown as `kubectl nodeqos <node>`, never with kubectl flags in front of it', () => {
    for (const { doc, text } of texts) expect(text, doc).not.toMatch(/kubectl (--?\S+ )+nodeqos(\s|$)/m);
    expect(texts.find(t => t.doc.endsWith('NOTES.txt'))?.text).toContain('kubectl nodeqos <node>');
  });
});
