import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, on a registry of its own (so several gateways in one test process do not collide). */
export interface Metrics {
  registry: Registry;
  requests: Counter<'operation' | 'status'>;
  requestDuration: Histogram<'operation'>;
  upstreamDuration: Histogram<'operation' | 'status_class'>;
  auditWriteDuration: Histogram<'kind'>;
  auditWriteFailures: Counter<'kind'>;
  rateLimitRejections: Counter<'budget'>;
  authFailures: Counter<'reason'>;
  rotations: Counter<'what' | 'result'>;
  /** Checkpoints a witness refused to cosign (issue 15): the log's history is not what it cosigned before. */
  auditWitnessRefusals: Counter<'witness' | 'reason'>;
  upstreamUnauthorized: Counter;
  /** Set by each /readyz answer: load balancers see readiness, alerts see it here (deploy/prometheus/alerts.yaml). */
  readiness: Gauge<'check'>;
  /** 1 while ownership is answered from memory (its listener connected), 0 while every read goes to the database. */
  ownershipLive: Gauge;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
  const r = { registers: [registry] };
  return {
    registry,
    requests: new Counter({
      ...r,
      name: 'gateway_requests_total',
      help: 'Requests answered, by operation id (or route) and HTTP status.',
      labelNames: ['operation', 'status'],
    }),
    requestDuration: new Histogram({
      ...r,
      name: 'gateway_request_duration_seconds',
      help: 'Time to answer a request, by operation id.',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS,
    }),
    upstreamDuration: new Histogram({
      ...r,
      name: 'gateway_upstream_duration_seconds',
      help: 'Time the Management API took, by operation and status class (2xx…, or error).',
      labelNames: ['operation', 'status_class'],
      buckets: LATENCY_BUCKETS,
    }),
    auditWriteDuration: new Histogram({
      ...r,
      name: 'gateway_audit_write_duration_seconds',
      help: 'Time to commit an audit entry, by entry kind.',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
    }),
    auditWriteFailures: new Counter({
      ...r,
      name: 'gateway_audit_write_failures_total',
      help: 'Audit entries that could not be committed in time, by entry kind.',
      labelNames: ['kind'],
    }),
    rateLimitRejections: new Counter({
      ...r,
      name: 'gateway_rate_limit_rejections_total',
      help: 'Requests refused by a rate limit, by budget.',
      labelNames: ['budget'],
    }),
    authFailures: new Counter({
      ...r,
      name: 'gateway_auth_failures_total',
      help: 'Requests refused for want of a valid token, by reason.',
      labelNames: ['reason'],
    }),
    rotations: new Counter({
      ...r,
      name: 'gateway_rotations_total',
      help: 'Reloads of the DeveloperKey or the policy, by result.',
      labelNames: ['what', 'result'],
    }),
    upstreamUnauthorized: new Counter({
      ...r,
      name: 'gateway_upstream_unauthorized_total',
      help: 'Upstream answers 401: the Management API refused the DeveloperKey (revoked, mistyped, or rotated without a reload).',
    }),
    readiness: new Gauge({
      ...r,
      name: 'gateway_readiness_check',
      help: 'What the last /readyz found, by check (1 passed, 0 failed; check="ready" is the answer itself, 0 while draining).',
      labelNames: ['check'],
      // Across workers (WORKERS > 1) the least ready one: one worker failing a check is a failing check.
      aggregator: 'min',
    }),
    ownershipLive: new Gauge({
      ...r,
      name: 'gateway_ownership_live',
      help: 'Whether application ownership is answered from memory (1: its LISTEN connection is up and the projection read) or read from the database on every request (0).',
      // Across workers (WORKERS > 1) the least live one.
      aggregator: 'min',
    }),
    auditWitnessRefusals: new Counter({
      ...r,
      name: 'gateway_audit_witness_refusals_total',
      help: 'Audit checkpoints a witness refused to cosign (reason inconsistent_history) or cosigned with a signature that does not verify with its key, not stored (reason invalid_cosignature), by witness URL.',
      labelNames: ['witness', 'reason'],
    }),
  };
}
