// Renders docs/isolation-cdf.png, the LS latency CDFs of the isolation benchmark, from the data file the benchmark
// writes with --out (docs/isolation-data.json):
//   scripts/run node bench/isolation.bench.ts --out=docs/isolation-data.json
//   scripts/run node bench/plot-isolation.ts [data.json] [out.png]
// Needs gnuplot (Debian: apt-get install -y gnuplot-nox). A documentation artifact only: CI never runs this.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Row {
  readonly variant: string;
  readonly cdf?: { q: number; value: number }[];
}

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const [dataFile = join(docs, 'isolation-data.json'), pngFile = join(docs, 'isolation-cdf.png')] =
  process.argv.slice(2);
const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { cpu?: Row[]; io?: Row[]; load1mStart?: number };

const scratch = mkdtempSync(join(tmpdir(), 'nodeqos-plot-'));
try {
  /** One panel: one data file per row, plotted as percentile (y, log scale of 1 - q) against latency (x, log). */
  const panel = (rows: readonly Row[], title: string, name: string): string => {
    const series = rows.filter(r => (r.cdf ?? []).length > 0);
    const plots = series.map((row, i) => {
      const file = join(scratch, `${name}-${i}.dat`);
      const lines = (row.cdf ?? []).filter(p => p.q < 1 && p.value > 0).map(p => `${p.value} ${1 - p.q}`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return `'${file}' using 1:2 with lines lw 2 title '${row.variant}'`;
    });
    return [
      `set title '${title}'`,
      `set xlabel 'latency (µs, log)'`,
      `set ylabel 'fraction slower (1 - CDF, log)'`,
      'set logscale xy',
      'set yrange [0.0005:1]',
      "set ytics ('p50' 0.5, 'p90' 0.1, 'p99' 0.01, 'p99.9' 0.001)",
      'set grid',
      'set key top right',
      `plot ${plots.join(', ')}`,
    ].join('\n');
  };
  const script = [
    `set terminal pngcairo noenhanced size 1400,560 font 'sans,10'`,
    `set output '${pngFile}'`,
    'set multiplot layout 1,2',
    panel(data.cpu ?? [], 'CPU: LS response (1 ms period, 0.5 ms work) vs 2 BE spinners', 'cpu'),
    panel(data.io ?? [], 'I/O: LS 4 KiB O_DIRECT read vs BE O_DIRECT writer', 'io'),
    'unset multiplot',
  ].join('\n');
  const scriptFile = join(scratch, 'plot.gp');
  writeFileSync(scriptFile, `${script}\n`);
  execFileSync('gnuplot', [scriptFile], { stdio: 'inherit' });
  console.log(`wrote ${pngFile}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
