// The agent's state files (original values, the local plan copy): one format and one way to write them. A file is
// `{"checksum":"sha256:<hex>","payload":...}`; it is written to a temporary file, fsynced, renamed over the old one, and
// the directory is fsynced, so after a crash or power loss the path holds the old or the new content, whole. A file
// that fails its checksum is moved aside (newest few kept) and reported, never silently trusted.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoOf, messageOf } from './fs.ts';

export type DurableRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly payload: unknown }
  | { readonly kind: 'corrupt'; readonly reason: string };

/** How many moved-aside corrupt copies of one file are kept (the newest). */
export const keptCorruptCopies = 3;

function checksumOf(payloadText: string): string {
  return `sha256:${createHash('sha256').update(payloadText).digest('hex')}`;
}

async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeDurable(path: string, payload: unknown): Promise<void> {
  const payloadText = JSON.stringify(payload);
  const text = `{"checksum":${JSON.stringify(checksumOf(payloadText))},"payload":${payloadText}}\n`;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp-${process.pid}`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await fsyncPath(dir, 'r');
}

/** Removes the file (a cleared plan copy), durably. */
export async function removeDurable(path: string): Promise<void> {
  await rm(path, { force: true });
  await fsyncPath(dirname(path), 'r').catch((error: unknown) => {
    if (errnoOf(error) !== 'ENOENT') throw error;
  });
}

export async function readDurable(path: string): Promise<DurableRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ENOENT') return { kind: 'none' };
    if (errno === 'EISDIR') return { kind: 'corrupt', reason: `${path} is a directory, not a state file` };
    throw new Error(`reading ${path}: ${messageOf(error)}`, { cause: error });
  }
  if (text.trim() === '') return { kind: 'corrupt', reason: 'empty (truncated?)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { kind: 'corrupt', reason: `not JSON (truncated?): ${messageOf(error)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || !('checksum' in parsed) || !('payload' in parsed))
    return { kind: 'corrupt', reason: 'missing checksum or payload' };
  if (checksumOf(JSON.stringify(parsed.payload)) !== parsed.checksum)
    return { kind: 'corrupt', reason: 'checksum mismatch' };
  return { kind: 'ok', payload: parsed.payload };
}

/**
 * Moves an unusable state file (or a directory where the file belongs) aside as `<name>.corrupt-<ms>` for a human to
 * look at, and deletes older copies beyond the newest keptCorruptCopies. Returns the new path.
 */
export async function quarantine(path: string, now = Date.now()): Promise<string> {
  const aside = `${path}.corrupt-${now}`;
  await rename(path, aside);
  const prefix = `${basename(path)}.corrupt-`;
  const copies = (await readdir(dirname(path)))
    .filter(name => name.startsWith(prefix) && /^[0-9]+$/.test(name.slice(prefix.length)))
    .sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)));
  for (const old of copies.slice(keptCorruptCopies))
    await rm(join(dirname(path), old), { recursive: true, force: true });
  return aside;
}
