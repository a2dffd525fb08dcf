import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from './config/load';

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to the deadline), then closes what is left. */
  stop(deadlineMs?: number): Promise<void>;
}

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_HEADER_FIELDS = 100;
// Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval (30 s by default), so a
// slow-loris client held a socket for up to 30 s whatever HEADERS_TIMEOUT_MS said (test/security/slow-clients.test.ts).
const TIMEOUT_CHECK_INTERVAL_MS = 500;

export async function startWebServer(
  app: Express,
  config: Pick<Config, 'host' | 'port' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'shutdownTimeoutMs'>,
): Promise<RunningServer> {
  const options = {
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: config.headersTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const server = createServer(options, (req, res) => {
    // Past maxHeadersCount Node silently drops fields from req.headers (a Content-Type or X-Request-Id would just
    // vanish); refuse the request instead, as Node does when the headers are too large.
    if (req.rawHeaders.length > MAX_HEADER_FIELDS * 2) return void res.writeHead(431, { Connection: 'close' }).end();
    app(req, res);
  });
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = MAX_HEADER_FIELDS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    stop: (deadlineMs = config.shutdownTimeoutMs) => stopWebServer(server, deadlineMs),
  };
}

export function stopWebServer(server: Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
