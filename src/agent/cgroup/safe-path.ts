// Every cgroup or /proc path the agent touches is built here from validated parts and checked to stay under its root.
import { isAbsolute, resolve, sep } from 'node:path';

export class PathRefusedError extends Error {
  override readonly name = 'PathRefusedError';
}

const podUidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const maxNameLength = 255;

function shown(text: string): string {
  return JSON.stringify(text.slice(0, 80));
}

export function assertPodUid(uid: string): void {
  if (!podUidPattern.test(uid))
    throw new PathRefusedError(`refused pod uid ${shown(uid)}: not an 8-4-4-4-12 hex UID`);
}

/** A single directory or file name: no separator, no NUL, not '.' or '..', no leading dot (hidden or traversal). */
export function assertPlainName(name: string, what: string): void {
  if (name === '' || name.length > maxNameLength)
    throw new PathRefusedError(`refused ${what} ${shown(name)}: empty or too long`);
  if (name.includes('/') || name.includes('\\'))
    throw new PathRefusedError(`refused ${what} ${shown(name)}: contains a path separator`);
  if (name.includes('\0')) throw new PathRefusedError(`refused ${what} ${shown(name)}: contains NUL`);
  if (name.startsWith('.'))
    throw new PathRefusedError(`refused ${what} ${shown(name)}: starts with '.' (hidden or '..')`);
}

/** A relative directory such as "kubepods.slice" or "nodeqos-test-1/kubepods": plain names joined by '/'. */
export function splitRelativeDir(dir: string, what: string): string[] {
  if (isAbsolute(dir))
    throw new PathRefusedError(`refused ${what} ${shown(dir)}: must be relative to the cgroup root`);
  const segments = dir.split('/');
  for (const segment of segments) assertPlainName(segment, what);
  return segments;
}

export function assertAbsoluteRoot(root: string, what: string): string {
  if (!isAbsolute(root) || root.includes('\0'))
    throw new PathRefusedError(`refused ${what} ${shown(root)}: must be an absolute path`);
  return resolve(root);
}

/** root + parts, refused unless the result is root itself or below it (defence in depth after the name checks). */
export function resolveUnder(root: string, ...parts: string[]): string {
  const base = resolve(root);
  for (const part of parts) {
    if (part.includes('\0'))
      throw new PathRefusedError(`refused path part ${shown(part)} under ${base}: contains NUL`);
  }
  const target = resolve(base, ...parts);
  const prefix = base.endsWith(sep) ? base : base + sep;
  if (target !== base && !target.startsWith(prefix)) {
    throw new PathRefusedError(`refused path ${shown(target)}: escapes ${base}`);
  }
  return target;
}
