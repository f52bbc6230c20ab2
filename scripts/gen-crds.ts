// Writes crds/*.yaml and the Helm chart's copy (charts/nodeqos/crds/) from the zod schemas; with --check, fails
// when either is stale or holds a CRD file the schemas no longer produce.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from '../src/api/crd-yaml.ts';

const root = join(import.meta.dirname, '..');
const chartDir = join(root, 'charts', 'nodeqos');
if (!existsSync(join(chartDir, 'Chart.yaml'))) {
  console.error(`missing ${join(chartDir, 'Chart.yaml')}: the chart's CRD copy has nowhere to go`);
  process.exit(1);
}
const targets = [join(root, 'crds'), join(chartDir, 'crds')];
const check = process.argv.includes('--check');
const crds = renderCrds();
const expected = new Set(crds.map(c => c.file));
let stale = 0;
for (const dir of targets) {
  if (!check) mkdirSync(dir, { recursive: true });
  for (const { file, text } of crds) {
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
  const leftovers = existsSync(dir)
    ? readdirSync(dir).filter(f => f.endsWith('.yaml') && !expected.has(f))
    : [];
  for (const file of leftovers) {
    const path = join(dir, file);
    if (check) {
      console.error(`stale: ${path} is no CRD the zod schemas produce; run npm run gen:crds`);
      stale++;
    } else {
      rmSync(path);
      console.log(`removed ${path}`);
    }
  }
}
if (stale > 0) process.exit(1);
if (check) console.log('crds are up to date');
