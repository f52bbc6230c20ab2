// vitest global setup: says whether the real kube-apiserver suites run, and builds the launcher before any
// test starts (a cold build takes many minutes, longer than any hook timeout; later runs reuse .tools/).
import { launcherBinary, realApiserverPlan } from './real-apiserver.ts';

export default async function setup(): Promise<void> {
  const plan = realApiserverPlan();
  if (!plan.run) {
    console.log(`\n[nodeqos] real kube-apiserver suites SKIPPED: ${plan.reason}\n`);
    return;
  }
  const started = Date.now();
  const binary = await launcherBinary(line => console.log(`[nodeqos] ${line}`));
  console.log(
    `\n[nodeqos] real kube-apiserver suites run (${plan.reason}); launcher ${binary.built ? `built in ${binary.buildSeconds} s` : `cached (its build took ${binary.buildSeconds} s)`}, ${(binary.sizeBytes / 1e6).toFixed(0)} MB, ready after ${Date.now() - started} ms\n`,
  );
}
