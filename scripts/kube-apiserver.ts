// scripts/run kube-apiserver: a real kube-apiserver (built from Go modules on first use, then cached under
// .tools/) with embedded etcd, RBAC, ServiceAccount tokens and the CRDs from crds/ applied. Prints the path of
// its admin kubeconfig and runs until interrupted; its data directory is removed on exit.
//   scripts/run kube-apiserver [--build-only] [--keep-dir] [-- extra kube-apiserver flags]
import { launcherBinary, startRealApiserver } from '../test/support/real-apiserver.ts';

const argv = process.argv.slice(2);
const dashDash = argv.indexOf('--');
const own = dashDash < 0 ? argv : argv.slice(0, dashDash);
const apiserverArgs = dashDash < 0 ? [] : argv.slice(dashDash + 1);
const log = (line: string): void => {
  console.error(`kube-apiserver: ${line}`);
};

const binary = await launcherBinary(log);
console.error(
  `kube-apiserver: binary ${binary.path} (${(binary.sizeBytes / 1e6).toFixed(0)} MB; ${binary.built ? 'built now' : 'cached'}, the build took ${binary.buildSeconds} s)`,
);
if (own.includes('--build-only')) process.exit(0);

const api = await startRealApiserver({ keepDir: own.includes('--keep-dir'), apiserverArgs, log });
console.log(`kube-apiserver ${api.server} ready in ${api.startupMs} ms (data: ${api.dir})`);
console.log(`running; try: kubectl --kubeconfig ${api.kubeconfigPath} get nqp,nip   (Ctrl-C to stop)`);
await new Promise<void>(resolve => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await api.stop();
