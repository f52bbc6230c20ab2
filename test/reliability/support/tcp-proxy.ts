// A TCP proxy in front of the dev server that can make it unreachable: down() cuts every connection and refuses
// new ones (as a node cut off from the control plane sees it), up() lets traffic through again. The objects on
// the server stay, unlike a server restart.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { devKubeConfig } from '../../../src/devserver/kubeconfig.ts';

export class TcpProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private reachable = true;
  port = 0;

  private constructor(targetPort: number) {
    this.server = createServer(client => {
      if (!this.reachable) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>(resolve => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  kubeConfig(): KubeConfig {
    return devKubeConfig(this.url);
  }

  down(): void {
    this.reachable = false;
    for (const socket of this.sockets) socket.destroy();
  }

  up(): void {
    this.reachable = true;
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}
