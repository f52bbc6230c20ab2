// `nodeqos version` / `--version`: the package version and the commit it was built from.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository (or image) root: src/cli/ and dist/cli/ both sit two levels below it. */
const root = join(import.meta.dirname, '..', '..');

function packageVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The commit, from the first source that has it: $NODEQOS_COMMIT (set by an image build), a `COMMIT` file at the
 * root (written when an image is staged, where there is no .git), else git itself (`-dirty` when tracked files
 * differ from the commit).
 */
function commit(): string {
  const fromEnv = process.env.NODEQOS_COMMIT?.trim();
  if (fromEnv) return fromEnv;
  const file = join(root, 'COMMIT');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim() || 'unknown';
  if (!existsSync(join(root, '.git'))) return 'unknown';
  try {
    return execFileSync(
      'git',
      ['-C', root, 'describe', '--always', '--dirty', '--abbrev=12', '--exclude=*'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      },
    ).trim();
  } catch {
    return 'unknown';
  }
}

export function versionLine(): string {
  return `nodeqos ${packageVersion()} (commit ${commit()}, node ${process.version})`;
}
