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
  private dropMarker?: Buffer;
  private holdMarker?: Buffer;
  private releases: (() => void)[] = [];
  private counters: { marker: Buffer; count: number }[] = [];
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

  /**
   * The next reply from the database that contains `marker` (e.g. `INSERT 0 `, the tag Postgres sends once the
   * statement's implicit transaction has committed) is swallowed and the connection cut: a commit whose result is lost.
   */
  dropReplyContaining(marker: string): void {
    this.dropMarker = Buffer.from(marker, 'utf8');
  }

  /**
   * From now on, what a client sends from a message containing `marker` on (e.g. `INSERT INTO audit_entry`) is held
   * back from the database until `releaseHeld()`, connection by connection; everything else passes.
   */
  holdRequestsContaining(marker: string): void {
    this.holdMarker = Buffer.from(marker, 'utf8');
  }

  /** From now on, counts what clients send that contains `marker` (one per chunk read); read with the function returned. */
  countRequestsContaining(marker: string): () => number {
    const counter = { marker: Buffer.from(marker, 'utf8'), count: 0 };
    this.counters.push(counter);
    return () => counter.count;
  }

  /** Sends what was held, in the order the connections were held. */
  releaseHeld(): void {
    this.holdMarker = undefined;
    for (const release of this.releases.splice(0)) release();
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
    const held: Buffer[] = [];
    client.on('data', (d: Buffer) => {
      for (const c of this.counters) if (d.includes(c.marker)) c.count++;
      if (held.length === 0 && !(this.holdMarker && d.includes(this.holdMarker))) return void upstream.write(d);
      if (held.length === 0) this.releases.push(() => upstream.write(Buffer.concat(held.splice(0))));
      held.push(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (this.dropMarker && d.includes(this.dropMarker)) {
        this.dropMarker = undefined;
        upstream.destroy();
        client.destroy();
        return;
      }
      client.write(d);
    });
  }
}
