import type { RequestHandler } from 'express';
import type { Metrics } from './metrics';

/** Counts every answered request once it is finished, from what the pipeline learned about it. */
export function observeRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const { operation, errorCode, errorReason, upstream } = res.locals;
      const label = operation?.id ?? routeLabel(req.baseUrl + req.path);
      metrics.requests.inc({ operation: label, status: String(res.statusCode) });
      metrics.requestDuration.observe({ operation: label }, (performance.now() - started) / 1000);
      if (upstream) metrics.upstreamDuration.observe({ operation: label, status_class: upstream.statusClass }, upstream.seconds);
      if (errorCode === 'invalid_token' || errorCode === 'unauthenticated') metrics.authFailures.inc({ reason: errorReason ?? errorCode });
      if (errorCode === 'rate_limited') metrics.rateLimitRejections.inc({ budget: (errorReason ?? 'unknown').replace(/_budget_exhausted$/, '') });
    });
    next();
  };
}

/** A bounded label for requests that are not catalogued operations (never the raw path: ids would explode the series). */
function routeLabel(path: string): string {
  if (path === '/v1/me') return 'me';
  if (path.startsWith('/v1/audit/events')) return 'audit.events';
  if (path.startsWith('/v1/audit/')) return `audit.${path.split('/')[3] ?? ''}`.replace(/[^a-z._-]/g, '');
  if (path === '/healthz' || path === '/readyz') return path.slice(1);
  if (path.startsWith('/console')) return 'console';
  return 'other';
}
