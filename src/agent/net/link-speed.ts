// The rate of the HTB root class: the link speed the driver reports in /sys/class/net/<dev>/speed (Mb/s). Virtual
// devices report -1 or fail the read with EINVAL; those fall back to a configured rate (default 10 Gbit/s).
import { messageOf } from '../fs.ts';
import { checkInterfaceName } from './names.ts';

export const defaultFallbackLinkBitsPerSec = 10_000_000_000;

export interface LinkRate {
  readonly bitsPerSec: number;
  readonly source: 'configured' | 'sysfs' | 'fallback';
  /** Why the fallback was used. */
  readonly reason?: string;
}

export async function readLinkRate(
  dev: string,
  readFile: (path: string) => Promise<string>,
  fallbackBitsPerSec: number,
): Promise<LinkRate> {
  const path = `/sys/class/net/${checkInterfaceName(dev)}/speed`;
  let text: string;
  try {
    text = (await readFile(path)).trim();
  } catch (error) {
    return {
      bitsPerSec: fallbackBitsPerSec,
      source: 'fallback',
      reason: `${path} unreadable: ${messageOf(error)}`,
    };
  }
  const megabits = /^-?\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(megabits > 0))
    return {
      bitsPerSec: fallbackBitsPerSec,
      source: 'fallback',
      reason: `${path} reports "${text.slice(0, 40)}"`,
    };
  return { bitsPerSec: megabits * 1_000_000, source: 'sysfs' };
}
