import type { RequestHandler } from 'express';
import type { Metrics } from './metrics';

/** The label objects of one operation (or route label), made once and reused by every request that has it. */
interface OperationLabels {
  operation: { operation: string };
  byStatus: Map<number, { operation: string; status: string }>;
  byStatusClass: Map<string, { operation: string; status_class: string }>;
}

/** Counts every answered request once it is finished, from what the pipeline learned about it. */
export function observeRequests(metrics: Metrics): RequestHandler {
  // Bounded: operation ids and route labels are closed sets (ROUTE_LABELS), and so are statuses and status classes.
  const labels = new Map<string, OperationLabels>();
  const labelsOf = (operation: string): OperationLabels => {
    let l = labels.get(operation);
    if (!l) labels.set(operation, (l = { operation: { operation }, byStatus: new Map(), byStatusClass: new Map() }));
    return l;
  };
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const { operation, errorCode, errorReason, upstream } = res.locals;
      const l = labelsOf(operation?.id ?? routeLabel(req.baseUrl + req.path));
      const status = res.statusCode;
      let byStatus = l.byStatus.get(status);
      if (!byStatus) l.byStatus.set(status, (byStatus = { operation: l.operation.operation, status: String(status) }));
      metrics.requests.inc(byStatus);
      metrics.requestDuration.observe(l.operation, (performance.now() - started) / 1000);
      if (upstream) {
        let byClass = l.byStatusClass.get(upstream.statusClass);
        if (!byClass)
          l.byStatusClass.set(
            upstream.statusClass,
            (byClass = { operation: l.operation.operation, status_class: upstream.statusClass }),
          );
        metrics.upstreamDuration.observe(byClass, upstream.seconds);
        if (upstream.status === 401) metrics.upstreamUnauthorized.inc();
      }
      if (errorCode === 'invalid_token' || errorCode === 'unauthenticated')
        metrics.authFailures.inc({ reason: errorReason ?? errorCode });
      if (errorCode === 'rate_limited')
        metrics.rateLimitRejections.inc({ budget: (errorReason ?? 'unknown').replace(/_budget_exhausted$/, '') });
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
export const ROUTE_LABELS: readonly string[] = [
  ...new Set([...Object.values(EXACT_LABELS), ...PREFIX_LABELS.map(([, label]) => label), 'other']),
];

export function routeLabel(path: string): string {
  return EXACT_LABELS[path] ?? PREFIX_LABELS.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'other';
}
