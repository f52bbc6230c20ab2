// Diagnostics a test produces on purpose (a chaos run's report, a fuzz run's outcome counts) go to a file, not the
// test log: a passing run must print nothing that reads like a failure. A failing assertion names the file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** $NODEQOS_TEST_REPORTS, else <tmpdir>/nodeqos-test-reports. */
export const reportDir = process.env.NODEQOS_TEST_REPORTS ?? join(tmpdir(), 'nodeqos-test-reports');

/** Writes `text` to <reportDir>/<name>.txt and returns a note for assertion messages: "report: <path>". */
export function keepReport(name: string, text: string): string {
  mkdirSync(reportDir, { recursive: true });
  const path = join(reportDir, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.txt`);
  writeFileSync(path, `${text}\n`);
  return `report: ${path}`;
}
