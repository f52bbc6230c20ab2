// Real CPU load: one spinning Node process per CPU, switched on and off with SIGCONT/SIGSTOP so a benchmark knows
// the instant the load starts or stops (a signal, not a process start-up). The spinners exit by themselves if
// this process dies (they watch their parent pid), and stop() kills them.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { procCpuMs } from './proc.ts';

const spinner = `
const parent = process.ppid;
for (let n = 1; ; n++) if ((n & 0xfffff) === 0 && process.ppid !== parent) process.exit(0);
`;

export class CpuBurners {
  private readonly children: ChildProcess[];

  private constructor(children: ChildProcess[]) {
    this.children = children;
  }

  /** Starts `count` spinners, paused. */
  static async start(count: number): Promise<CpuBurners> {
    const children: ChildProcess[] = [];
    const burners = new CpuBurners(children);
    try {
      for (let i = 0; i < count; i++) {
        const child = spawn(process.execPath, ['-e', spinner], { stdio: 'ignore' });
        children.push(child);
        await once(child, 'spawn');
      }
      burners.pause();
    } catch (error) {
      await burners.stop();
      throw error;
    }
    return burners;
  }

  get pids(): number[] {
    return this.children.flatMap(child => (child.pid === undefined ? [] : [child.pid]));
  }

  /** CPU time the spinners have used so far, ms. */
  cpuMs(): number {
    return this.pids.reduce((sum, pid) => sum + procCpuMs(pid), 0);
  }

  run(): void {
    this.signal('SIGCONT');
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async child => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
  }

  private signal(signal: NodeJS.Signals): void {
    for (const child of this.children)
      if (!child.kill(signal)) throw new Error(`cannot send ${signal} to CPU burner ${child.pid}`);
  }
}
