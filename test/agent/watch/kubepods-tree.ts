// A private kubepods tree on the real cgroup v1 kernel for watcher tests:
// /sys/fs/cgroup/<controller>/nodeqos-test-<hex>/kubepods, removed bottom-up (rmdir) even when a test fails.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const cgroupRoot = '/sys/fs/cgroup';

/** Why the tree cannot be made here, or undefined. */
export function kernelTreeUnavailable(controllers: readonly string[]): string | undefined {
  for (const controller of controllers) {
    try {
      accessSync(join(cgroupRoot, controller, 'cgroup.procs'));
      accessSync(join(cgroupRoot, controller), constants.W_OK);
    } catch (error) {
      return `${join(cgroupRoot, controller)} is not a writable cgroup v1 hierarchy (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
    }
  }
  return undefined;
}

export function removeTreeSync(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) if (entry.isDirectory()) removeTreeSync(join(dir, entry.name));
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

export class KubepodsTree {
  readonly name = `nodeqos-test-${randomBytes(4).toString('hex')}`;
  readonly controllers: readonly string[];

  constructor(controllers: readonly string[]) {
    this.controllers = controllers;
    for (const controller of controllers) mkdirSync(this.base(controller));
  }

  /** nodeqos-test-<hex> in one controller: the private directory everything lives in. */
  base(controller: string): string {
    return join(cgroupRoot, controller, this.name);
  }

  /** The kubepods root the watcher is given. */
  root(controller: string): string {
    return join(this.base(controller), 'kubepods');
  }

  /** mkdir of a path relative to kubepods (in every controller, or one). */
  mkdir(relative: string, controller?: string): void {
    for (const c of controller === undefined ? this.controllers : [controller])
      mkdirSync(join(this.root(c), relative));
  }

  rmdir(relative: string, controller?: string): void {
    for (const c of controller === undefined ? this.controllers : [controller])
      rmdirSync(join(this.root(c), relative));
  }

  removeRoot(): void {
    for (const c of this.controllers) removeTreeSync(this.root(c));
  }

  remove(): void {
    const failures: string[] = [];
    for (const c of this.controllers)
      try {
        removeTreeSync(this.base(c));
      } catch (error) {
        failures.push(String(error));
      }
    if (failures.length > 0) throw new Error(`tree ${this.name} not fully removed: ${failures.join('; ')}`);
  }
}
