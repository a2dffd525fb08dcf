import { Router } from 'express';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface Lifecycle {
  /** Set when SIGTERM arrives: the load balancer should stop sending new requests. */
  draining: boolean;
}

/** `/healthz`: the process is alive. `/readyz`: every dependency answered, and the gateway is not draining. */
export function healthRoutes(checks: ReadinessCheck[], lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await check();
          return { name, ok: true };
        } catch (err) {
          return { name, ok: false, error: (err as Error).message };
        }
      }),
    );
    const ready = !lifecycle.draining && results.every((r) => r.ok);
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ready' : lifecycle.draining ? 'draining' : 'not_ready', checks: results });
  });
  return router;
}
