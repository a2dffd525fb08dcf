import cluster from 'node:cluster';
import { AggregatorRegistry, Gauge } from 'prom-client';
import type { Metrics } from '../metrics/metrics';
import { listeningMessage } from './messages';

/**
 * A worker answers the primary's metrics requests from its first moment (prom-client listens once an
 * AggregatorRegistry exists), so a scrape during a worker's start-up is not held until prom-client's 5 s timeout.
 * Until the gateway's registry is handed over it answers with prom-client's empty global registry.
 */
export function answerMetricsRequests(): void {
  new AggregatorRegistry();
}

/**
 * Hands the worker's registry to the primary's aggregation, with one series of its own: the requests this worker
 * answered, labelled with its cluster id and pid, read from gateway_requests_total when scraped (nothing per request).
 * The primary sums every other series over the workers; these stay one per worker, which shows how the kernel and
 * the primary spread connections.
 */
export function joinClusterMetrics(metrics: Metrics): void {
  const worker = String(cluster.worker?.id ?? 0);
  const pid = String(process.pid);
  new Gauge({
    registers: [metrics.registry],
    name: 'gateway_worker_requests',
    help: 'Requests this worker process answered since it started (its share of gateway_requests_total), by worker id and pid.',
    labelNames: ['worker', 'pid'],
    async collect() {
      const { values } = await metrics.requests.get();
      this.set(
        { worker, pid },
        values.reduce((sum, v) => sum + v.value, 0),
      );
    },
  });
  AggregatorRegistry.setRegistries([metrics.registry]);
}

/** Tells the primary this worker serves: the primary announces the gateway once every worker has. */
export function announceListening(url: string): void {
  process.send?.(listeningMessage(url));
}
