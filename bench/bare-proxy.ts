/**
 * The floor the gateway is measured against: the least a proxy that injects the DeveloperKey must do.
 * node:http in, an undici keep-alive Pool out, the client's Authorization swapped for the DeveloperKey, and
 * nothing else — no authentication, policy, validation, audit, rate limits or logging. Benchmark only.
 *
 *   BARE_UPSTREAM_URL=http://127.0.0.1:8181 BARE_DEVELOPER_KEY=… PORT=0 npx tsx bench/bare-proxy.ts
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

export interface BareProxyOptions {
  /** Origin of the upstream, e.g. http://127.0.0.1:8181 (paths are passed through unchanged). */
  upstreamUrl: string;
  developerKey: string;
  /** Keep-alive connections to the upstream; the gateway's UPSTREAM_CONNECTIONS default. */
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

export function createBareProxy(options: BareProxyOptions): { server: Server; close(): Promise<void> } {
  const pool = new Pool(new URL(options.upstreamUrl).origin, { connections: options.connections ?? 32, pipelining: 1 });
  const authorization = `DeveloperKey ${options.developerKey}`;
  const server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
    headers.authorization = authorization;
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    pool
      .request({
        method: req.method as Dispatcher.HttpMethod,
        path: req.url ?? '/',
        headers,
        body: hasBody ? req : undefined,
      })
      .then((upstream) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(upstream.headers))
          if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
        res.writeHead(upstream.statusCode, out);
        upstream.body.pipe(res);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 5_000;
  return {
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

if (require.main === module) {
  const upstreamUrl = process.env.BARE_UPSTREAM_URL;
  const developerKey = process.env.BARE_DEVELOPER_KEY;
  if (!upstreamUrl || !developerKey) throw new Error('BARE_UPSTREAM_URL and BARE_DEVELOPER_KEY are required');
  const proxy = createBareProxy({ upstreamUrl, developerKey, connections: Number(process.env.BARE_CONNECTIONS ?? 32) });
  proxy.server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const { port } = proxy.server.address() as AddressInfo;
    process.stdout.write(`bare proxy listening on http://127.0.0.1:${port}\n`);
  });
  process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
}
