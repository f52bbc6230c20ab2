// The demo's end-to-end flow (policies, nodes and pods from examples/, the controller, one agent per simulated
// node, plans applied and read back from the cgroup files) against each API server: the embedded one the
// demo uses, and a real kube-apiserver when Go is present.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadDemoCluster } from '../../src/cli/demo-cluster.ts';
import { startDemo, type DemoApiServer } from '../../src/demo/run-demo.ts';
import { apiServers, useApiServer } from '../support/api-servers.ts';

const logger = pino({ level: 'silent' });

describe.each(apiServers)('demo flow ($name API server)', backend => {
  const api = useApiServer(backend);

  it('plans and applies every example node; the latency pod gets its exclusive cpuset and OOM score', async () => {
    const server = api();
    const external: DemoApiServer | undefined =
      server.kind === 'real'
        ? {
            url: server.real?.server ?? '',
            kubeConfig: () => server.kubeConfig(),
            writeKubeconfig: () => Promise.reject(new Error('not needed')),
            close: () => Promise.resolve(),
          }
        : undefined;
    const demo = await startDemo(loadDemoCluster(), logger, { timeoutMs: 90_000, apiServer: external });
    try {
      expect(demo.nodes.map(n => n.name).sort()).toEqual(['node-batch', 'node-general', 'node-latency']);
      const latency = demo.nodes.find(n => n.name === 'node-latency');
      const plan = await demo.plan('node-latency');
      expect(plan.spec.policyName).toBe('latency-critical');
      expect(plan.status?.conditions?.find(c => c.type === 'Applied')?.status).toBe('True');
      const matcher = latency?.pods.find(p => p.name === 'matcher-latency');
      expect(matcher).toBeDefined();
      if (latency === undefined || matcher === undefined) return;
      expect(await latency.sim.readPod(matcher)).toMatchObject({ cpuset: '1-2', oomScoreAdj: '-900' });
    } finally {
      await demo.stop();
    }
  }, 120_000);
});
