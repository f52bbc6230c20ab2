// A bearer token read from a file and read again when the file changes: kubelet rotates projected service
// account tokens (about hourly, valid for an hour plus slack) by swapping the mount's ..data symlink, so a
// token read once at start-up stops working. The file is checked at most once per `checkIntervalMs` (one
// stat: tmpfs, microseconds); a 401 from the server forces a check at once (see client.ts).
import { readFileSync, statSync } from 'node:fs';

export interface TokenSource {
  /** The token to send now. */
  token(): string;
  /** Reads the file again now (after a 401); true when the token changed. */
  refresh(): boolean;
}

/** A token that never changes (kubeconfig `token:`). */
export function staticToken(token: string): TokenSource {
  return { token: () => token, refresh: () => false };
}

export interface FileTokenOptions {
  /** Least time between two stats of the file (default 1000 ms). */
  readonly checkIntervalMs?: number;
  readonly now?: () => number;
}

interface Snapshot {
  readonly token: string;
  /** mtime, inode and size together: a symlink swap changes the inode even within the mtime's resolution. */
  readonly signature: string;
}

export class FileToken implements TokenSource {
  readonly path: string;
  private readonly checkIntervalMs: number;
  private readonly now: () => number;
  private current: Snapshot;
  private checkedAt: number;
  /** How often the token was read again because the file changed (for tests and logs). */
  reloads = 0;

  constructor(path: string, options: FileTokenOptions = {}) {
    this.path = path;
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.current = this.read(this.signature());
    this.checkedAt = this.now();
  }

  private signature(): string {
    const stat = statSync(this.path);
    return `${stat.mtimeMs}:${stat.ino}:${stat.size}`;
  }

  private read(signature: string): Snapshot {
    const token = readFileSync(this.path, 'utf8').trim();
    if (token === '') throw new Error(`service account token file ${this.path} is empty`);
    return { token, signature };
  }

  token(): string {
    if (this.now() - this.checkedAt >= this.checkIntervalMs) this.refresh();
    return this.current.token;
  }

  refresh(): boolean {
    this.checkedAt = this.now();
    let next: Snapshot;
    try {
      const signature = this.signature();
      if (signature === this.current.signature) return false;
      next = this.read(signature);
    } catch {
      // Mid-swap (the old target gone, the new link not yet there, or an empty file): keep the current token
      // and look again at the next check.
      return false;
    }
    const changed = next.token !== this.current.token;
    this.current = next;
    if (changed) this.reloads++;
    return changed;
  }
}
