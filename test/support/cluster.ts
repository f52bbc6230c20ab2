// A small typed client over KubeHttp for integration tests: seed nodes, pods and policies; read plans.
import type { NodeIsolationPlan } from '../../src/api/plan.ts';
import type { NodeQoSPolicy } from '../../src/api/policy.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { plansPath, policiesPath } from '../../src/kube/sources.ts';
import type { KubeConfig } from '@kubernetes/client-node';

let uidSeq = 0;
export const testUid = (): string => `00000000-0000-4000-a000-${(++uidSeq).toString(16).padStart(12, '0')}`;

export class TestCluster {
  readonly http: KubeHttp;

  /** A server (the embedded one) or a KubeConfig (any server, the real kube-apiserver included). */
  constructor(server: KubeConfig | { kubeConfig(): KubeConfig }) {
    this.http = new KubeHttp('kubeConfig' in server ? server.kubeConfig() : server);
  }

  async node(name: string, labels: Record<string, string> = {}, cpu = '8'): Promise<void> {
    await this.http.request('POST', '/api/v1/nodes', {
      body: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels },
        status: { capacity: { cpu, memory: '32Gi' }, allocatable: { cpu, memory: '32Gi' } },
      },
    });
  }

  async deleteNode(name: string): Promise<void> {
    await this.http.request('DELETE', `/api/v1/nodes/${name}`);
  }

  async pod(
    name: string,
    nodeName: string,
    options: { qos?: string; cpu?: string; memory?: string; namespace?: string; uid?: string } = {},
  ): Promise<string> {
    const uid = options.uid ?? testUid();
    // The API server assigns the real uid; the one sent is ignored, as a real server does.
    const resources =
      options.cpu === undefined
        ? {}
        : {
            requests: { cpu: options.cpu, memory: options.memory ?? '1Gi' },
            limits: { cpu: options.cpu, memory: options.memory ?? '1Gi' },
          };
    const namespace = options.namespace ?? 'default';
    const created = await this.http.request<{ metadata: { uid: string } }>(
      'POST',
      `/api/v1/namespaces/${namespace}/pods`,
      {
        body: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name,
            namespace,
            uid,
            labels: options.qos ? { 'nodeqos.io/qos-class': options.qos } : {},
          },
          spec: { nodeName, containers: [{ name: 'c', image: 'x', resources }] },
        },
      },
    );
    return created.metadata.uid;
  }

  async deletePod(name: string, namespace = 'default'): Promise<void> {
    // Grace period 0: a real API server otherwise waits for a kubelet to confirm the pod stopped.
    await this.http.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
      body: { gracePeriodSeconds: 0 },
    });
  }

  async policy(name: string, spec: NodeQoSPolicy['spec']): Promise<void> {
    await this.http.request('POST', policiesPath, {
      body: { apiVersion: 'nodeqos.io/v1alpha1', kind: 'NodeQoSPolicy', metadata: { name }, spec },
    });
  }

  async patchPolicy(name: string, spec: Partial<NodeQoSPolicy['spec']>): Promise<void> {
    await this.http.request('PATCH', `${policiesPath}/${name}`, {
      body: { spec },
      contentType: 'application/merge-patch+json',
    });
  }

  async getPolicy(name: string): Promise<NodeQoSPolicy & { metadata: { generation: number } }> {
    return this.http.request('GET', `${policiesPath}/${name}`);
  }

  async plan(
    name: string,
  ): Promise<(NodeIsolationPlan & { metadata: { resourceVersion: string } }) | undefined> {
    try {
      return await this.http.request('GET', `${plansPath}/${name}`);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async planNames(): Promise<string[]> {
    const list = await this.http.request<{ items: { metadata: { name: string } }[] }>('GET', plansPath);
    return list.items.map(i => i.metadata.name).sort();
  }
}
