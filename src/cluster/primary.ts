import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Config } from '../config/load';
import { startMetricsServer } from '../metrics/server';
import { createRestartBackoff } from './backoff';
import { isListeningMessage } from './messages';

/** Past SHUTDOWN_TIMEOUT_MS a worker still closes its own things (audit log, pools, database): this much longer. */
const CLOSE_GRACE_MS = 10_000;

/**
 * WORKERS > 1: this process serves no request itself. It forks the workers (each a whole gateway; they share the
 * port through node:cluster), replaces one that dies (with back-off), forwards SIGHUP, drains them all on
 * SIGTERM/SIGINT, and answers /metrics on the metrics port with every worker's series summed: prom-client's
 * AggregatorRegistry asks each worker over the IPC channel. docs/performance.md, "Several workers", says what runs
 * once and what runs in every worker.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const serving = new Map<number, string>();
  const pendingForks = new Set<NodeJS.Timeout>();
  const backoff = createRestartBackoff();
  let announced = false;
  let stopping = false;

  const own = new Registry();
  collectDefaultMetrics({ register: own, prefix: 'gateway_primary_' });
  const restarts = new Counter({
    registers: [own],
    name: 'gateway_worker_restarts_total',
    help: 'Worker processes that died and were replaced.',
  });
  new Gauge({
    registers: [own],
    name: 'gateway_workers',
    help: 'Worker processes: as configured (WORKERS), and serving now.',
    labelNames: ['state'],
    collect() {
      this.set({ state: 'configured' }, config.workers);
      this.set({ state: 'serving' }, serving.size);
    },
  });
  const aggregator = new AggregatorRegistry();
  const source = {
    contentType: own.contentType,
    metrics: async () => [await aggregator.clusterMetrics(), await own.metrics()].filter(Boolean).join('\n'),
  };
  const metricsServer = await startMetricsServer(source, config.metrics.host, config.metrics.port);

  const live = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  function fork(): void {
    const worker = cluster.fork();
    const forkedAt = Date.now();
    worker.on('message', (message: unknown) => {
      if (!isListeningMessage(message)) return;
      serving.set(worker.id, message.url);
      if (!announced && serving.size === config.workers) announce(message.url);
    });
    worker.once('exit', (code, signal) => died(worker, Date.now() - forkedAt, code, signal));
  }

  function announce(url: string): void {
    announced = true;
    const pids = live().map((w) => w.process.pid);
    logger.info(
      {
        url,
        metrics: metricsServer.url,
        upstream: config.upstream.baseUrl,
        env: config.env,
        workers: config.workers,
        pids,
      },
      'gateway listening',
    );
  }

  function died(worker: Worker, livedMs: number, code: number | null, signal: string | null): void {
    serving.delete(worker.id);
    if (stopping) return;
    const who = { worker: worker.id, worker_pid: worker.process.pid, lived_ms: livedMs, code, signal };
    if (!announced) {
      // A worker that cannot start (a configuration problem found against the database, the database unreachable)
      // stops the gateway with the worker's exit code: replacing it would only fail again.
      logger.error(who, 'a worker stopped during start-up; stopping the gateway');
      void shutdown('start-up failure', code === 0 || code === null ? 1 : code);
      return;
    }
    const delay = backoff.delayAfterDeath(livedMs);
    restarts.inc();
    logger.error({ ...who, replace_in_ms: delay }, 'a worker died; replacing it');
    const timer = setTimeout(() => {
      pendingForks.delete(timer);
      if (!stopping) fork();
    }, delay);
    pendingForks.add(timer);
  }

  async function shutdown(reason: string, exitCode?: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    for (const timer of pendingForks) clearTimeout(timer);
    const workers = live();
    logger.info({ signal: reason, workers: workers.length }, 'draining: finishing in-flight requests');
    const exits = workers.map((w) => new Promise<number | null>((resolve) => w.once('exit', (code) => resolve(code))));
    // Each worker drains as a single gateway does on SIGTERM: stops accepting, finishes what it has, closes, exits 0.
    // SIGTERM: each worker keeps serving, unready, for DRAIN_PERIOD_MS first; anything else skips the drain period.
    for (const w of workers) w.process.kill(reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT');
    const killer = setTimeout(
      () => {
        for (const w of live()) w.process.kill('SIGKILL');
      },
      config.drainPeriodMs + config.shutdownTimeoutMs + CLOSE_GRACE_MS,
    );
    const codes = await Promise.all(exits);
    clearTimeout(killer);
    await metricsServer.stop();
    logger.info({ exit_codes: codes }, 'stopped');
    process.exit(exitCode ?? (codes.every((c) => c === 0) ? 0 : 1));
  }

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Only to workers that serve: one still starting reads the files anyway, and has no SIGHUP handler yet (the
  // default action would end it).
  process.on('SIGHUP', () => {
    const workers = live().filter((w) => serving.has(w.id));
    logger.info(
      { workers: workers.length },
      'SIGHUP: passed to every serving worker (each re-reads the DeveloperKey file and the policy file)',
    );
    for (const w of workers) w.process.kill('SIGHUP');
  });
  for (let i = 0; i < config.workers; i++) fork();
}
