/**
 * The Express floor (issue 16): what Express 5 itself costs for the bare proxy's work, so the gateway's features can
 * be told apart from the framework they run on. One route, nothing else: read the body, swap the client's
 * Authorization for the DeveloperKey, forward with an undici keep-alive Pool of the same size as the bare proxy's
 * and the gateway's (`UPSTREAM_CONNECTIONS`, default 32), and send the answer the way an Express app does
 * (`res.status().set().send()`, with Express's defaults: ETag and all). No authentication, policy, validation,
 * audit, rate limits, logging or metrics. Benchmark only.
 *
 *   FLOOR_UPSTREAM_URL=http://127.0.0.1:8181 FLOOR_DEVELOPER_KEY=… PORT=0 npx tsx bench/express-floor.ts
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

export interface ExpressFloorOptions {
  /** Origin of the upstream, e.g. http://127.0.0.1:8181 (paths are passed through unchanged). */
  upstreamUrl: string;
  developerKey: string;
  /** Keep-alive connections to the upstream: the same as the bare proxy's and the gateway's. */
  connections?: number;
}

// Hop-by-hop headers are the connection's, not the request's (RFC 9110 §7.6.1); undici refuses some of them.
const HOP_BY_HOP = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);
// Express sets these itself from the body it sends.
const SET_BY_SEND = new Set(['content-length', 'etag']);

export function createExpressFloor(options: ExpressFloorOptions): {
  server: Server;
  listen(port: number): Promise<string>;
  close(): Promise<void>;
} {
  const pool = new Pool(new URL(options.upstreamUrl).origin, { connections: options.connections ?? 32, pipelining: 1 });
  const authorization = `DeveloperKey ${options.developerKey}`;
  const app = express();
  app.disable('x-powered-by');
  // The body is read whole, as the gateway reads it (any type, up to the gateway's default BODY_LIMIT).
  app.all('/{*path}', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'content-length') headers[name] = value;
    headers.authorization = authorization;
    const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
    try {
      const upstream = await pool.request({
        method: req.method as Dispatcher.HttpMethod,
        path: req.originalUrl,
        headers,
        body,
      });
      const answer = Buffer.from(await upstream.body.arrayBuffer());
      res.status(upstream.statusCode);
      for (const [name, value] of Object.entries(upstream.headers))
        if (value !== undefined && !HOP_BY_HOP.has(name) && !SET_BY_SEND.has(name)) res.set(name, value);
      res.send(answer);
    } catch {
      if (!res.headersSent) res.status(502).end();
      else res.destroy();
    }
  });
  let server: Server | undefined;
  return {
    get server() {
      if (!server) throw new Error('not listening');
      return server;
    },
    listen(port) {
      return new Promise((resolve) => {
        server = app.listen(port, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`),
        );
        server.keepAliveTimeout = 5_000;
      });
    },
    async close() {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await pool.close();
    },
  };
}

if (require.main === module) {
  const upstreamUrl = process.env.FLOOR_UPSTREAM_URL;
  const developerKey = process.env.FLOOR_DEVELOPER_KEY;
  if (!upstreamUrl || !developerKey) throw new Error('FLOOR_UPSTREAM_URL and FLOOR_DEVELOPER_KEY are required');
  const floor = createExpressFloor({
    upstreamUrl,
    developerKey,
    connections: Number(process.env.FLOOR_CONNECTIONS ?? 32),
  });
  void floor
    .listen(Number(process.env.PORT ?? 0))
    .then((url) => process.stdout.write(`Express floor listening on ${url}\n`));
  process.on('SIGTERM', () => void floor.close().then(() => process.exit(0)));
}
