// Prints the chart's default image reference: values.yaml image.repository and Chart.yaml appVersion, the
// same `repository:tag` the chart's nodeqos.image helper renders when image.tag and image.digest are empty.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const chartDir = join(import.meta.dirname, '..', 'charts', 'nodeqos');
const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as {
  image: { repository: string };
};
const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };
console.log(`${values.image.repository}:${chart.appVersion}`);
