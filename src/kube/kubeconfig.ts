// KubeConfig from --kubeconfig, else in-cluster, else the usual defaults ($KUBECONFIG, ~/.kube/config).
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path !== undefined) kc.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST !== undefined) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster())
    throw new Error('no cluster in the kubeconfig; pass --kubeconfig or run in a cluster');
  return kc;
}
