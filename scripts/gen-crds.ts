// Writes crds/*.yaml (and the Helm chart's copy) from the zod schemas; with --check, fails when they are stale.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from '../src/api/crd-yaml.ts';

const root = join(import.meta.dirname, '..');
const chartDir = join(root, 'charts', 'nodeqos');
const targets = [
  join(root, 'crds'),
  ...(existsSync(join(chartDir, 'Chart.yaml')) ? [join(chartDir, 'crds')] : []),
];
const check = process.argv.includes('--check');
let stale = 0;
for (const dir of targets) {
  if (!check) mkdirSync(dir, { recursive: true });
  for (const { file, text } of renderCrds()) {
    const path = join(dir, file);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current === text) continue;
    if (check) {
      console.error(`stale: ${path} differs from the zod schemas; run npm run gen:crds`);
      stale++;
    } else {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    }
  }
}
if (stale > 0) process.exit(1);
if (check) console.log('crds are up to date');
