import cluster from 'node:cluster';
import { startTracing } from './tracing/start';
import pino from 'pino';
import { buildApp } from './app';
import { composeGateway } from './compose';
import type { Config } from './config/load';
import { createLogger } from './http/logger';
import { startWebServer } from './server';
import { startingApp, switchableApp } from './startup/starting-app';
import { retryWhileDatabaseUnreachable } from './startup/wait-for-database';
import { startMetricsServer } from './metrics/server';
import { announceListening, answerMetricsRequests, joinClusterMetrics } from './cluster/worker';

/**
 * Workers share stdout. A write of at most PIPE_BUF (4 KiB on Linux) bytes to a pipe is never interleaved with
 * another process's, and pino's destination only ever writes whole lines, so no two workers' lines mix.
 */
const PIPE_BUF = 4096;

/** One gateway process: the whole gateway (WORKERS=1), or one of the workers the primary forked. */
export async function serveGateway(config: Config): Promise<void> {
  const worker = cluster.isWorker;
  if (worker) answerMetricsRequests();
  const logger = worker
    ? createLogger(config.logLevel, pino.destination({ dest: 1, sync: false, maxWrite: PIPE_BUF }))
    : createLogger(config.logLevel);
  // Outside production, the local default's one overlay (src/dev/local-default.ts), applied before anything is
  // composed; production never loads dev/. WORKERS > 1 is refused without a DeveloperKey (loadConfig), so the
  // simulator and the development IdP only ever run in one process.
  const local =
    config.env === 'production'
      ? undefined
      : await (await import('./dev/local-default')).applyLocalDefault(config, process.env);
  if (local) config = local.config;

  const tracing = await startTracing(process.env, logger);
  // The port answers from the start: /healthz 200 and /readyz 503 while the database is awaited, then the gateway.
  const serving = switchableApp(startingApp(logger));
  const running = await startWebServer(serving.app, config);
  logger.debug({ url: running.url }, 'port open: /readyz answers 503 until the gateway has started');
  const gateway = await retryWhileDatabaseUnreachable(() => composeGateway(config, logger), logger);
  const { deps } = gateway;
  if (worker) joinClusterMetrics(gateway.metrics);
  if (local?.simulator) await local.ownDemoApplications(deps);
  serving.switchTo(buildApp(deps));
  // A worker's metrics are served by the primary, summed over every worker.
  const metricsServer = worker
    ? undefined
    : await startMetricsServer(gateway.metrics.registry, config.metrics.host, config.metrics.port);
  if (local?.simulator) process.stdout.write(local.banner(running.url));
  logger.info(
    {
      url: running.url,
      metrics: metricsServer?.url,
      upstream: config.upstream.baseUrl,
      env: config.env,
      local_default: Boolean(local?.simulator),
      audit_store: gateway.database.kind,
    },
    worker ? 'worker listening' : 'gateway listening',
  );
  if (worker) announceListening(running.url);

  let stopping = false;
  let endDrain = () => {};
  const shutdown = async (signal: string) => {
    if (stopping) return endDrain();
    stopping = true;
    deps.lifecycle!.draining = true;
    // Load balancers learn from /readyz (503) that this replica is going, while it still serves what they send.
    const drainPeriodMs = signal === 'SIGTERM' ? config.drainPeriodMs : 0;
    logger.info({ signal, drain_period_ms: drainPeriodMs }, 'draining: finishing in-flight requests');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, drainPeriodMs);
      endDrain = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    logger.info('drain period over: the listener closes');
    await running.stop();
    await metricsServer?.stop();
    await gateway.close();
    await local?.close();
    await tracing?.shutdown();
    logger.info('stopped');
    // Request lines go out asynchronously (src/http/logger.ts): what is still buffered is written, and waited for,
    // before the process exits (test/process/log-lines-at-exit.test.ts). pino's exit hook would write it too.
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: re-reading the DeveloperKey file and the policy file');
    void gateway.reload('SIGHUP');
  });
}
