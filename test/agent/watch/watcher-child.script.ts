// Runs a CgroupWatcher in a child process (the watch-limit test starts it in a user namespace whose inotify
// watch limit it lowers) and prints every event as a JSON line. `raise` on stdin lifts the limit again.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CgroupWatcher } from '../../../src/agent/watch/cgroup-watcher.ts';

const [root, limit, rescanMs] = process.argv.slice(2);
if (root === undefined || limit === undefined || rescanMs === undefined)
  throw new Error('usage: watcher-child.script.ts <kubepods root> <max watches> <rescan ms>');
const limitFile = '/proc/sys/user/max_inotify_watches';
writeFileSync(limitFile, limit);
const watcher = new CgroupWatcher({
  hierarchies: [{ name: 'cpu', root }],
  driver: 'cgroupfs',
  rescanMs: Number(rescanMs),
  onEvent: event => {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  },
  onError: error => {
    process.stdout.write(`${JSON.stringify({ type: 'error', error: String(error) })}\n`);
  },
});
watcher.start();
process.stdout.write(`${JSON.stringify({ type: 'started', watches: watcher.watchCount })}\n`);
createInterface({ input: process.stdin }).on('line', line => {
  if (line === 'raise') writeFileSync(limitFile, '100000');
  if (line === 'exit') {
    watcher.close();
    process.exit(0);
  }
});
