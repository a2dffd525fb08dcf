import { Router } from 'express';
import type { Logger } from 'pino';

export interface ReadinessCheck {
  name: string;
  /**
   * false: reported, but does not make the gateway unready. The audit store is such a check: when it
   * is down, mutations are refused but reads still work, and pulling every replica out of the load
   * balancer would stop the reads too.
   */
  critical?: boolean;
  check(): Promise<void>;
}

export interface Lifecycle {
  /** Set when SIGTERM arrives: the load balancer should stop sending new requests. */
  draining: boolean;
}

/** `/healthz`: the process is alive. `/readyz`: every dependency answered, and the gateway is not draining. */
export function healthRoutes(
  checks: ReadinessCheck[],
  lifecycle: Lifecycle,
  logger: Logger,
  observe: (results: { name: string; ok: boolean }[], ready: boolean) => void = () => {},
): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async ({ name, check, critical = true }) => {
        try {
          await withDeadline(check(), 2_000);
          return { name, ok: true, critical };
        } catch (err) {
          // The cause names internal hosts and addresses: it goes to the log, not to the unauthenticated caller.
          logger.warn({ check: name, error: lastLine((err as Error).message) }, 'readiness check failed');
          return { name, ok: false, critical };
        }
      }),
    );
    const ready = !lifecycle.draining && results.every((r) => r.ok || !r.critical);
    observe(results, ready);
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ready' : lifecycle.draining ? 'draining' : 'not_ready', checks: results });
  });
  return router;
}

function withDeadline(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

function lastLine(message: string): string {
  return message.split('\n').filter(Boolean).slice(-1)[0] ?? message;
}
