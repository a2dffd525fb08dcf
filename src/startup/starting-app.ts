import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/codes';
import { errorHandler } from '../http/error-handler';
import { requestId } from '../http/request-id';

/**
 * What the port answers while the gateway cannot finish starting (its database unreachable): alive (`/healthz`
 * 200, so an orchestrator does not restart a process that is only waiting), not ready (`/readyz` 503, so a load
 * balancer sends nothing), and anything else 503 `audit_unavailable` in the usual envelope.
 */
export function startingApp(logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId());
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    res
      .status(503)
      .set('Cache-Control', 'no-store')
      .json({ status: 'starting', checks: [{ name: 'audit_store', ok: false, critical: true }] });
  });
  app.use((_req, _res, next) =>
    next(new GatewayError('audit_unavailable', 'The gateway is starting: its audit store is not reachable yet.')),
  );
  app.use(errorHandler(logger));
  return app;
}

/** An app whose handler is swapped once the real one is built: the listener opens once, before it is ready. */
export function switchableApp(initial: Express): { app: Express; switchTo(next: Express): void } {
  let current = initial;
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res) => current(req, res));
  return { app, switchTo: (next) => void (current = next) };
}
