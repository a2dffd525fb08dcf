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

/**
 * The label of a request that is not a catalogued operation, from a closed set whatever the path: a label taken
 * from the path (ids, or junk sent without a token) would add series without bound (issue 13, defect 1).
 */
const EXACT_LABELS: Record<string, string> = {
  '/v1/me': 'me',
  '/v1/policy/explain': 'policy.explain',
  '/v1/audit/events': 'audit.events',
  '/v1/audit/verify': 'audit.verify',
  '/v1/audit/checkpoint': 'audit.checkpoint',
  '/v1/audit/lookup-key': 'audit.lookup-key',
  '/healthz': 'healthz',
  '/readyz': 'readyz',
  '/openapi.json': 'docs',
};
const PREFIX_LABELS: [prefix: string, label: string][] = [
  ['/v1/audit/events/', 'audit.events'],
  ['/v1/approvals', 'approvals'],
  ['/v1/ownership', 'ownership'],
  ['/console', 'console'],
  ['/docs', 'docs'],
];
export const ROUTE_LABELS: readonly string[] = [...new Set([...Object.values(EXACT_LABELS), ...PREFIX_LABELS.map(([, label]) => label), 'other'])];

export function routeLabel(path: string): string {
  return EXACT_LABELS[path] ?? PREFIX_LABELS.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'other';
}
