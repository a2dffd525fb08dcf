import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyMode = 'pass' | 'hang';

/**
 * A TCP proxy in front of a database, to take it away from one gateway without touching the shared
 * server: `stop()` refuses connections and cuts the open ones (a stopped database), `setMode('hang')`
 * accepts and forwards nothing (a hung one), `start()` brings it back on the same port.
 */
export class TcpProxy {
  private server?: Server;
  private sockets = new Set<Socket>();
  private mode: ProxyMode = 'pass';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** 'hang' freezes every connection; back to 'pass', they thaw and whatever was waiting goes through. */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    for (const s of this.sockets) {
      if (mode === 'hang') s.pause();
      else s.resume();
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.mode === 'hang') {
      client.pause();
      return;
    }
    const upstream = connect(this.target);
    this.sockets.add(upstream);
    upstream.on('close', () => (this.sockets.delete(upstream), client.destroy()));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => client.write(d));
  }
}
