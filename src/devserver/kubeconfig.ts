// Client configuration for the dev server: a client-node KubeConfig and a kubeconfig file.
import { writeFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

/** client-node 2.x refuses plain http unless skipTLSVerify is set, hence the flag on a loopback http URL. */
export function devKubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ name: 'dev', server, skipTLSVerify: true }, { name: 'dev' });
  return kc;
}

export function kubeconfigYaml(server: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'dev', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'dev', user: {} }],
    contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'dev' } }],
    'current-context': 'dev',
    preferences: {},
  });
}

export async function writeKubeconfigFile(path: string, server: string): Promise<void> {
  await writeFile(path, kubeconfigYaml(server), { mode: 0o600 });
}
