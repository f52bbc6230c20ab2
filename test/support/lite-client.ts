// The agent's lite client pointed at the embedded API server (plain HTTP, no credentials), for tests that drive the
// agent's own API calls (Eviction API, Events, Node conditions) against it.
import type { DevServer } from '../../src/devserver/index.ts';
import { LiteKubeClient } from '../../src/kube/lite/client.ts';

export function liteClientFor(server: DevServer): LiteKubeClient {
  return new LiteKubeClient({
    server: new URL(server.url),
    ca: undefined,
    insecureSkipTlsVerify: false,
    tlsServerName: undefined,
    clientCertificate: undefined,
    bearerToken: undefined,
    source: 'test',
    namespace: undefined,
  });
}
